"""Publishing one claimed task: its outgoing request, and its outcome saved with others in one commit."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from clients import content_types

from . import files
from .claiming import _relaxed_commit
from .models import Outgoing, Route, Task
from .steps import Chain, StepError, _canonical, _describe_error, _error_text, _redacted, compile_chain

RESPONSE_BODY_LIMIT = 10_000  # characters of a failed publication's response kept on the task
SAVE_EVERY = 10  # publication outcomes written per transaction ...
SAVE_WITHIN_SECONDS = 0.5  # ... or after this long, whichever comes first
MAX_RETRY_DELAY = timedelta(days=7)  # a route's doubled backoff never waits longer (nor overflows)


@dataclass
class PublishOutcome:
    status: str
    retry_at: datetime | None = None
    rate_limited: bool = False


class Publisher:
    """Publishes tasks of any route, keeping one ClientSession per HTTP client for a whole batch.

    Its connections outlive it: the next publisher of this process gets them (clients.transports).

    The session never retries or waits by itself (max_retries=0, wait_on_rate_limit=False): the
    route's retry policy decides, and a rate-limited task is parked as Waiting instead of holding
    a worker asleep.
    """

    def __init__(self):
        self._sessions: dict[int, Any] = {}
        self._routes: dict[int, Route] = {}
        self._chains: dict[int, Chain] = {}
        self._pending: list[list] = []
        self._pending_since = 0.0

    def close(self) -> None:
        from clients import transports
        from sync import publishing as sync_publishing

        try:
            self.flush()
        finally:
            sync_publishing.close(self)  # sessions of HTTP request steps in outgoing transformers
            for client_id, session in self._sessions.items():
                session.log_buffer = None  # what a failed flush left is not written outside it
                session.close()
                transports.release(client_id, session._session)  # its connections serve the next message
            self._sessions.clear()

    def route(self, route_id: int) -> Route:
        if route_id not in self._routes:
            self._routes[route_id] = Route.objects.select_related("outgoing", "outgoing__client").get(pk=route_id)
        return self._routes[route_id]

    def outgoing_chain(self, outgoing: Outgoing) -> Chain:
        if outgoing.pk not in self._chains:
            self._chains[outgoing.pk] = compile_chain(
                outgoing.transformers_in_order(), "outgoing transformers")
        return self._chains[outgoing.pk]

    def session(self, client):
        from clients import transports
        from clients.http import ClientSession

        session = self._sessions.get(client.pk)
        if session is None:
            transport, _kept = transports.acquire(client)
            try:
                session = ClientSession(client, wait_on_rate_limit=False, max_retries=0, transport=transport)
            except BaseException:
                transports.release(client.pk, transport)
                raise
            self._sessions[client.pk] = session
            session.log_buffer = []  # request logs are written with the outcomes, in flush()
        return session

    def publish(self, task: Task) -> PublishOutcome:
        """Publish one claimed (Processing) task and record the outcome on its row."""
        from clients import http
        from sync import publishing as sync_publishing

        route = self.route(task.route_id)
        outgoing = route.outgoing
        client = outgoing.client
        now = timezone.now()
        attempts = task.attempts + 1
        try:
            datas = sync_publishing.run_chain(self, self.outgoing_chain(outgoing), task)
            if not datas:
                return self._save(task, Task.Status.SKIPPED, attempts=task.attempts,
                                  last_error="Dropped by a filter of the outgoing transformers.")
            session = self.session(client)
            session.task = task  # request logs of this exchange link to the task
            response = sync_publishing.send(self, session, outgoing, task, datas)  # create or update, or as is
        except StepError as exc:
            return self._save(task, Task.Status.FAILED, attempts=task.attempts, last_error=_error_text(client, exc))
        except http.RateLimited as exc:
            # The platform said when to come back: wait until then; this never counts as a failure.
            retry_at = now + timedelta(seconds=max(float(exc.retry_after or 0), 0.5))
            outcome = self._save(task, Task.Status.WAITING, attempts=task.attempts, next_attempt_at=retry_at,
                                 last_error=f"{exc.message}; next attempt at {retry_at:%Y-%m-%d %H:%M:%S %Z}.",
                                 response_status=429, response_body=exc.body)
            outcome.rate_limited = True
            return outcome
        except (http.ServerError, http.ConnectionFailed) as exc:
            return self._retry_or_fail(task, route, attempts, exc)
        except http.PlatformError as exc:  # other 4xx and unreadable answers: retrying would not help
            return self._save(task, Task.Status.FAILED, attempts=attempts, last_error=exc.describe(),
                              response_status=exc.status, response_body=exc.body)
        except Exception as exc:  # a bad request template, an unknown entity, ...: the task shows why
            return self._save(task, Task.Status.FAILED, attempts=attempts, last_error=_describe_error(client, exc))
        finally:
            if client.pk in self._sessions:
                self._sessions[client.pk].task = None
        body = response.data if response is not None else None
        if content_types.file_of(body):  # a file answer: its name, type and size, not megabytes of base64
            body = files.for_display(body)
        body_text = "" if body is None else body if isinstance(body, str) else _canonical(body)
        return self._save(task, Task.Status.FINISHED, attempts=attempts, last_error="",
                          response_status=response.status if response is not None else None,
                          response_body=_redacted(client, body_text[:RESPONSE_BODY_LIMIT]))

    def _retry_or_fail(self, task: Task, route: Route, attempts: int, exc) -> PublishOutcome:
        error = exc.describe()
        if route.retry_on_failure and attempts < route.max_attempts:
            # backoff, 2x backoff, 4x backoff, ... after the 1st, 2nd, 3rd failed attempt
            delay = min(route.backoff_seconds * (2 ** (attempts - 1)), MAX_RETRY_DELAY.total_seconds())
            retry_at = timezone.now() + timedelta(seconds=delay)
            return self._save(task, Task.Status.WAITING, attempts=attempts, next_attempt_at=retry_at,
                              last_error=f"{error} (attempt {attempts} of {route.max_attempts}; "
                                         f"next attempt at {retry_at:%H:%M:%S})",
                              response_status=exc.status, response_body=exc.body)
        suffix = f" (gave up after {attempts} attempts)" if route.retry_on_failure else ""
        return self._save(task, Task.Status.FAILED, attempts=attempts, last_error=error + suffix,
                          response_status=exc.status, response_body=exc.body)

    def _save(self, task: Task, status: str, *, attempts: int, last_error: str = "",
              next_attempt_at: datetime | None = None, response_status: int | None = None,
              response_body: str = "") -> PublishOutcome:
        # Only a task we still hold (Processing) is written: if the repair job handed it back
        # meanwhile, the newer state wins and this outcome is dropped.
        ops = connection.ops
        if not self._pending:
            self._pending_since = time.monotonic()
        self._pending.append([
            status, attempts, last_error[:5000], ops.adapt_datetimefield_value(next_attempt_at),
            response_status, response_body or "", ops.adapt_datetimefield_value(timezone.now()),
            task.pk, Task.Status.PROCESSING,
        ])
        if len(self._pending) >= SAVE_EVERY or time.monotonic() - self._pending_since > SAVE_WITHIN_SECONDS:
            self.flush()
        return PublishOutcome(status, retry_at=next_attempt_at)

    def flush(self) -> None:
        """Write the buffered outcomes in one transaction.

        One commit per task was the largest cost of publishing (an fsync per task on PostgreSQL,
        and lock hand-offs between workers on SQLite). Buffering a few outcomes trades that for
        a slightly larger repeat window: a worker killed before a flush leaves up to SAVE_EVERY
        published tasks in Processing, and they are published again after the repair job (at
        least once). Plain SQL, because building the ORM query cost as much as the UPDATE.

        The request logs of those publications are written in the same transaction, in one bulk
        INSERT per client (an INSERT per call was a third of publishing's cost with request
        logging on). So a task's outcome and its logs appear together; a worker killed before a
        flush loses the logs of the publications it had not saved yet, and those tasks, back in
        New, are published and logged again.
        """
        if not self._pending:
            for session in self._sessions.values():  # logs of exchanges without an outcome (none today)
                if session.log_buffer:
                    session.flush_logs()
            return
        rows, self._pending = self._pending, []
        from sync import publishing as sync_publishing

        with transaction.atomic(), connection.cursor() as cursor:
            _relaxed_commit(cursor)
            if connection.vendor == "postgresql":
                # One statement: the kept counts' statement trigger (summaries/) then runs once per
                # batch instead of once per task.
                cursor.execute(_bulk_save_sql(len(rows)), [v for row in rows for v in row[:8]] + [rows[0][8]])
            else:
                cursor.executemany(_save_sql(), rows)  # SQLite: in-process, no round trips to save
            for session in self._sessions.values():
                session.flush_logs()
            # Destination ids of created records: saved with the outcomes that report them.
            sync_publishing.commit(self, {row[7] for row in rows if row[0] == Task.Status.FINISHED})

def _save_sql() -> str:
    q = connection.ops.quote_name
    columns = ["status", "attempts", "last_error", "next_attempt_at", "response_status", "response_body",
               "updated_at"]
    sets = ", ".join(f"{q(Task._meta.get_field(name).column)} = %s" for name in columns)
    return (f"UPDATE {q(Task._meta.db_table)} SET {sets}, {q('processing_started_at')} = NULL "
            f"WHERE {q('id')} = %s AND {q('status')} = %s")


def _bulk_save_sql(count: int) -> str:
    """PostgreSQL: the outcomes of `count` tasks in one UPDATE ... FROM (VALUES ...), same condition as _save_sql."""
    q = connection.ops.quote_name
    columns = [("status", "varchar"), ("attempts", "integer"), ("last_error", "text"),
               ("next_attempt_at", "timestamptz"), ("response_status", "integer"), ("response_body", "text"),
               ("updated_at", "timestamptz")]
    row = "(" + ", ".join(f"%s::{kind}" for _name, kind in columns) + ", %s::bigint)"
    names = ", ".join(q(Task._meta.get_field(name).column) for name, _kind in columns)
    sets = ", ".join(f"{q(Task._meta.get_field(name).column)} = v.{q(Task._meta.get_field(name).column)}"
                     for name, _kind in columns)
    return (f"UPDATE {q(Task._meta.db_table)} AS t SET {sets}, {q('processing_started_at')} = NULL "
            f"FROM (VALUES {', '.join([row] * count)}) AS v({names}, {q('id')}) "
            f"WHERE t.{q('id')} = v.{q('id')} AND t.{q('status')} = %s")

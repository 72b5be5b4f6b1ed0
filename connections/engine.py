"""The engine: subscribe (incoming -> pages -> entities -> tasks) and publish (task -> outgoing request).

Plain functions on ids and model instances, no Celery in here: `connections.tasks` wraps them for
workers, the management commands call them in-process (`--sync`), and the tests call them directly.

State that must survive a crash lives in the database:
- a Run row says how far a subscription got (pages, entities, tasks) and carries a heartbeat;
- a Task row says where one entity is. Publishing claims tasks with one conditional UPDATE
  (status New/Waiting -> Processing), so two workers never publish the same task; a worker that
  dies leaves its tasks in Processing, and `repair()` returns them to New after
  settings.STUCK_TASK_TIMEOUT_MINUTES. Delivery is therefore *at least once*: a publication that
  reached the platform just before the crash is sent again.

Task dedupe keys (unique per route) make subscriptions idempotent, see `dedupe_key()`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from clients import content_types

from . import files
from .models import Outgoing, Route, Run, Task
from .records import source_id
from .transformers import context as step_context

log = logging.getLogger(__name__)

RESPONSE_BODY_LIMIT = 10_000  # characters of a failed publication's response kept on the task
CLAIM_BATCH = 50  # tasks claimed per UPDATE by a publisher
SAVE_EVERY = 10  # publication outcomes written per transaction ...
SAVE_WITHIN_SECONDS = 0.5  # ... or after this long, whichever comes first
MAX_RETRY_DELAY = timedelta(days=7)  # a route's doubled backoff never waits longer (nor overflows)


class RunCancelled(Exception):
    """Raised between pages when the user asked to cancel the run."""


class RunInterrupted(Exception):
    """Raised between pages when the run must stop without an outcome: the worker is shutting
    down (the run goes back to Queued), or another worker took the run over."""


class StepError(Exception):
    """An error with the step it happened in ("page 2", "entity 3 of page 1"), for Run.error_step."""

    def __init__(self, step: str, message: str):
        super().__init__(message)
        self.step = step


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def worker_name() -> str:
    """Who is running this, in one form: "name@host", as Celery names its workers.

    Inside a worker it is that worker's node name ("celery@vm"); elsewhere (manage.py run_incoming,
    a Run test in the dashboard) the program, so every run reads the same way ("manage.py@vm").
    """
    from celery import current_task

    request = getattr(current_task, "request", None)
    hostname = getattr(request, "hostname", None) if request else None
    if hostname:
        return hostname
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    return f"{program}@{socket.gethostname()} (pid {os.getpid()})"


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def _digest(data: Any) -> str:
    return hashlib.sha256(_canonical(data).encode()).hexdigest()[:24]


def entity_id(entity: Any) -> str | None:
    """The platform's id of a record as "key=value", if it carries one (see records.source_id)."""
    found = source_id(entity)
    return f"{found[0]}={found[1]}" if found else None


def dedupe_key(run_id: int, page: str, index: int, branch: str, source: Any, data: Any) -> str:
    """A task's key, unique per route, computed only from what the source returned.

    - A record with an id: "e:<hash of id and task data>". Run-independent: the same unchanged
      record fetched again (a later run, or the same run retried after a crash) makes no new
      task; a record whose data changed does make one, so updates are still published.
    - A record without an id: "r<run>:p<page>:i<index>:b<branch>", its position in this run.
      Scoped to the run because positions mean nothing across runs; a run retried after a
      crash re-reads the same pages in the same order and so produces the same keys.

    bulk_create(ignore_conflicts=True) on the (route, dedupe_key) constraint then drops the
    duplicates, so re-processing a page never creates a second task.
    """
    ident = entity_id(source)
    if ident is not None:
        return "e:" + _digest([ident, data])
    return f"r{run_id}:p{page}:i{index}:b{branch}"


Chain = Callable[[dict, str], list[dict]]


def compile_chain(transformers: list, where: str) -> Chain:
    """Compile saved transformers once; the result runs them on an entity, errors naming the step.

    `where` prefixes the step of a compile error; the per-entity step is passed on each call.
    """
    if not transformers:
        return lambda entity, step: [entity]
    from .transformers import TransformError, compile_transformers

    try:
        compiled = compile_transformers(transformers)
    except TransformError as exc:
        raise StepError(where, f"Transformer error: {exc}") from exc

    def run(entity: dict, step: str) -> list[dict]:
        try:
            return list(compiled(entity))
        except TransformError as exc:
            raise StepError(step, f"Transformer error: {exc}") from exc

    return run


def _redacted(client, text: str) -> str:
    from clients.redaction import redact_text

    return redact_text(text, client.secret_values()) if client is not None else text


def _error_text(client, exc: BaseException) -> str:
    return _redacted(client, str(exc) or exc.__class__.__name__)


# --------------------------------------------------------------------------------------------
# Subscription: running an incoming configuration
# --------------------------------------------------------------------------------------------


def start_run(incoming, trigger: str = "manual") -> Run:
    """A queued Run row; execute_run() does the work (in a worker or in-process)."""
    return Run.objects.create(incoming=incoming, trigger=trigger, status=Run.Status.QUEUED)


def parameter_sets(incoming) -> list[dict]:
    """The request parameters after the input transformers (they may branch into several sets)."""
    from .run_test import parameter_sets as sets_of
    from .transformers import TransformError

    try:
        sets = sets_of(incoming)
    except TransformError as exc:
        raise StepError("input transformers", f"Transformer error: {exc}") from exc
    for params in sets:
        if not isinstance(params, dict):
            raise StepError("input transformers", "the input transformers must produce objects with “path” "
                                                  "and “query”")
    return sets


def execute_run(run_id: int, notify: Callable[[list[int]], None] | None = None,
                progress: Callable[[Run], None] | None = None, stop: Callable[[], bool] | None = None) -> Run:
    """Run an incoming: stream its pages, transform every entity, create tasks for its routes.

    `notify(route_ids)` is called (after the page's transaction commits) with the realtime routes
    that got new tasks and have no publisher at work, so the caller can start publishing them at
    once, and again for every realtime route with tasks when the run ends; `progress(run)` after
    every stored page (the CLI prints it). When `stop()` turns true (the worker is shutting down)
    the run is put back in the queue between pages, to be resumed from its first page.
    """
    run = Run.objects.select_related("incoming", "incoming__client").get(pk=run_id)
    if run.status in (Run.Status.FINISHED, Run.Status.FAILED, Run.Status.CANCELLED):
        log.info("run %s is already %s; not running it again", run.pk, run.status)
        return run
    now = timezone.now()
    from .claims import me

    Run.objects.filter(pk=run.pk).update(
        status=Run.Status.RUNNING, worker=worker_name()[:200], heartbeat_at=now, claimed_by=me(),
        started_at=run.started_at or now, error="", error_step="",
    )
    run.refresh_from_db()
    incoming = run.incoming
    client = incoming.client
    # Counting starts again if this is a redelivered run (its worker died): pages read before
    # are read again, and their tasks' keys are the same, so no task is duplicated.
    counters = {"pages": 0, "entities": 0, "filtered": 0}
    step = "start"
    # Storage writes of transformers wait for their page's transaction; the watermark follows the run.
    from sync.watermarks import Tracker

    watermark = Tracker(incoming, run)
    scope = step_context.enter(step_context.StepContext(mode=step_context.BUFFERED, source=f"run {run.pk}", run=run))
    try:
        if incoming.disabled:
            raise StepError("start", f"Incoming configuration “{incoming}” is disabled.")
        if client is None:
            raise StepError("start", f"Incoming configuration “{incoming}” receives its entities from webhooks; "
                                     "there is nothing to fetch.")
        routes = list(
            Route.objects.filter(incoming=incoming, enabled=True).select_related("outgoing").order_by("pk")
        )
        realtime_ids = [r.pk for r in routes if r.realtime]
        route_chains = {
            r.pk: compile_chain(r.transformers_in_order(), f"route “{r}”") for r in routes
        }
        entity_chain = compile_chain(
            incoming.transformers_in_order("entity"), "entity transformers")
        step = "input transformers"
        sets = parameter_sets(incoming)

        from clients.http import ClientSession

        with ClientSession(client, run=run) as session:
            for set_number, params in enumerate(sets, start=1):
                prefix = f"parameter set {set_number}, " if len(sets) > 1 else ""
                pages = session.paginate(
                    incoming.entity, path=params.get("path") or {}, query=params.get("query") or {},
                    payload=params.get("payload"), page_cap=settings.PAGINATION_PAGE_CAP,
                )
                try:
                    number = 0
                    while True:
                        step = f"{prefix}page {number + 1}"
                        _check_between_pages(run, stop)
                        try:
                            page = next(pages)
                        except StopIteration:
                            break
                        number = page.number
                        step = f"{prefix}page {number}"
                        watermark.observe(page.records)
                        where = (set_number if len(sets) > 1 else 0, number, prefix)
                        # Routes whose queue is empty before this page: only they need a publisher
                        # started; elsewhere one is queued or at work and takes the new tasks in
                        # its next claim (one message per page would mostly find nothing to do).
                        idle = _idle_routes(realtime_ids) if notify and realtime_ids else []
                        realtime = _store_page(run, where, page.records, page.raw_count, routes, route_chains,
                                               entity_chain, counters)
                        start = [r for r in realtime if r in idle]
                        if start:
                            transaction.on_commit(lambda ids=start: notify(ids))
                        if progress:
                            run.refresh_from_db()
                            progress(run)
                        if not incoming.pagination:
                            break  # without "Enable pagination" only the first page is read
                finally:
                    pages.close()
    except RunCancelled:
        _finish_run(run, Run.Status.CANCELLED, counters, error="Cancelled by a user.", step=step)
    except RunInterrupted as exc:
        Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING, claimed_by=run.claimed_by).update(
            status=Run.Status.QUEUED, claimed_by=None, error=str(exc), error_step="")
    except StepError as exc:
        _finish_run(run, Run.Status.FAILED, counters, error=_error_text(client, exc), step=exc.step)
    except Exception as exc:  # every failure ends the run visibly, with the step it happened in
        log.warning("run %s failed at %s: %s", run.pk, step, _error_text(client, exc))
        where = getattr(exc, "step", "") or step
        if where and not where.startswith(prefix_of(step)):
            where = prefix_of(step) + where
        _finish_run(run, Run.Status.FAILED, counters, error=_describe_error(client, exc), step=where)
    else:
        _finish_run(run, Run.Status.FINISHED, counters)
        watermark.finished()  # only an error-free run moves the watermark
    step_context.leave(scope)
    if notify:
        # Whatever a publisher may have just missed: one more round per realtime route with tasks.
        with_tasks = sorted(Task.objects.filter(run=run, route__realtime=True).order_by()
                            .values_list("route_id", flat=True).distinct())
        if with_tasks:
            transaction.on_commit(lambda: notify(with_tasks))
    run.refresh_from_db()
    return run


def _check_between_pages(run: Run, stop: Callable[[], bool] | None) -> None:
    current = Run.objects.filter(pk=run.pk).values("cancel_requested", "claimed_by", "status").first() or {}
    if current.get("cancel_requested"):
        raise RunCancelled()
    if current.get("status") != Run.Status.RUNNING or current.get("claimed_by") != run.claimed_by:
        raise RunInterrupted("Taken over: the repair job believed its worker had stopped.")
    if stop and stop():
        raise RunInterrupted("Put back in the queue while its worker shut down; it starts again from its "
                             "first page (no task is created twice).")


def _idle_routes(route_ids: list[int]) -> list[int]:
    """The routes among route_ids with no task queued (New) or being published."""
    pending = Task.objects.filter(status__in=(Task.Status.NEW, Task.Status.PROCESSING))
    return [r for r in route_ids if not pending.filter(route_id=r).exists()]  # LIMIT 1 on the (route, status) index


def prefix_of(step: str) -> str:
    """The "parameter set N, " part of a step, if any."""
    head, sep, _ = step.partition(", ")
    return head + sep if head.startswith("parameter set") else ""


def _describe_error(client, exc: BaseException) -> str:
    if exc.__class__.__name__ == "SoftTimeLimitExceeded":  # Celery's soft time limit of a run
        return (f"Stopped after {settings.RUN_TIME_LIMIT} s, the longest a run may take (RUN_TIME_LIMIT). "
                "Pages already read kept their tasks; narrow the request or raise RUN_TIME_LIMIT.")
    status = getattr(exc, "status", None)
    text = _error_text(client, exc)
    name = exc.__class__.__name__
    if status:
        return f"{name} (HTTP {status}): {text}"
    return f"{name}: {text}"


def _store_page(run: Run, where: tuple[int, int, str], records: list, raw_count: int, routes: list,
                route_chains: dict[int, Chain], entity_chain: Chain, counters: dict,
                also: Callable[[], None] | None = None) -> list[int]:
    """Turn one page into tasks for every route, in bounded batches; return realtime routes that got tasks.

    `also()` runs in the transaction that records the page as stored (a caller marking in the same
    commit that a pushed delivery is done).
    """
    from .storing import StoreError, task_batches

    realtime: set[int] = set()
    if "created" not in counters:  # once per run: the tasks a redelivered run wrote before
        counters["created"] = Task.objects.filter(run=run).count()
    try:
        for rows in task_batches(run, where, records, routes, route_chains, entity_chain, counters, dedupe_key):
            with transaction.atomic():  # one short write lock per batch, not per page
                # What the batch adds is one short range of the (run, id) index after the run's newest
                # task: recounting every task of the run after every page grew with the run.
                last = Task.objects.filter(run=run).order_by("-pk").values_list("pk", flat=True).first() or 0
                Task.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
                counters["created"] += Task.objects.filter(run=run, pk__gt=last).count()
                Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
            realtime.update(row.route_id for row in rows if row.route.realtime)
    except StoreError as exc:
        raise StepError(exc.step, str(exc)) from None
    counters["pages"] += 1
    counters["entities"] += raw_count  # raw, before filtering
    with transaction.atomic():
        step_context.current().commit()  # "Save to storage" / "Filter previously stored" of this page
        Run.objects.filter(pk=run.pk).update(
            pages=counters["pages"], entities=counters["entities"], filtered=counters["filtered"],
            tasks_created=counters["created"], heartbeat_at=timezone.now(),
        )
        if also is not None:
            also()
    return sorted(realtime)


def store_pushed_entities(run_id: int, records: list, also: Callable[[], None] | None = None) -> tuple[Run, list[int]]:
    """Entities pushed to us (a webhook request) rather than fetched: stored as page 1 of the run.

    They take the same path as a fetched page: the incoming's entity transformers, then every
    enabled route's transformers, then one task each, written in batches (_store_page). `also()`
    runs in the transaction that records the page as stored, so a caller can mark the delivery
    done in that commit. Stored again after a crash, the run makes the same task keys, so the
    batches already written are not duplicated. Returns the finished run and the realtime routes
    that got tasks.
    """
    run = Run.objects.select_related("incoming").get(pk=run_id)
    now = timezone.now()
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, worker=worker_name()[:200], heartbeat_at=now,
                                         started_at=run.started_at or now, error="", error_step="")
    counters = {"pages": 0, "entities": 0, "filtered": 0}
    realtime: list[int] = []
    scope = step_context.enter(step_context.StepContext(mode=step_context.BUFFERED, source=f"run {run.pk}"))
    try:
        routes = list(Route.objects.filter(incoming=run.incoming, enabled=True).select_related("outgoing")
                      .order_by("pk"))
        route_chains = {r.pk: compile_chain(r.transformers_in_order(), f"route “{r}”") for r in routes}
        entity_chain = compile_chain(run.incoming.transformers_in_order("entity"), "entity transformers")
        realtime = _store_page(run, (0, 1, ""), records, len(records), routes, route_chains, entity_chain,
                               counters, also=also)
    except StepError as exc:
        _finish_run(run, Run.Status.FAILED, counters, error=str(exc), step=exc.step)
    else:
        _finish_run(run, Run.Status.FINISHED, counters)
    finally:
        step_context.leave(scope)
    run.refresh_from_db()
    return run, realtime


def _finish_run(run: Run, status: str, counters: dict, error: str = "", step: str = "") -> None:
    # Only a run still Running is ours to end: if the repair job meanwhile marked it Failed (or
    # queued it again), that newer verdict stands.
    Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING, claimed_by=run.claimed_by).update(
        status=status, pages=counters["pages"], entities=counters["entities"], filtered=counters["filtered"],
        tasks_created=Task.objects.filter(run=run).count(), error=error, error_step=step[:100] if error else "",
        finished_at=timezone.now(), heartbeat_at=timezone.now(),
    )


def cancel_run(run: Run) -> bool:
    """Ask a queued or running run to stop; it checks the flag between pages."""
    if run.status == Run.Status.QUEUED:
        # Not started yet: nothing to interrupt, end it here.
        return bool(Run.objects.filter(pk=run.pk, status=Run.Status.QUEUED).update(
            status=Run.Status.CANCELLED, cancel_requested=True, error="Cancelled by a user.",
            finished_at=timezone.now()))
    return bool(Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(cancel_requested=True))


# --------------------------------------------------------------------------------------------
# Publication: tasks -> outgoing requests
# --------------------------------------------------------------------------------------------

CLAIMABLE = (Task.Status.NEW, Task.Status.WAITING)


def due_tasks(route_id: int | None = None, now: datetime | None = None, waiting_only: bool = False):
    """Tasks that may be published now: New, or Waiting whose time has come, on enabled routes.

    waiting_only: just the retries, for the periodic job on routes with scheduled processing
    (their New tasks wait for the route's own scheduler).
    """
    now = now or timezone.now()
    waiting = Q(status=Task.Status.WAITING) & (Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))
    due = waiting if waiting_only else waiting | Q(status=Task.Status.NEW)
    qs = Task.objects.filter(route__enabled=True).filter(due)
    if route_id is not None:
        qs = qs.filter(route_id=route_id)
    return qs


def claim_tasks(route_id: int | None = None, limit: int = CLAIM_BATCH, now: datetime | None = None,
                waiting_only: bool = False) -> list[int]:
    """Atomically move up to `limit` due tasks to Processing; return their ids.

    The UPDATE repeats the status condition, so a task another worker claimed in between is not
    taken twice. On PostgreSQL the candidates are locked with SKIP LOCKED so concurrent workers
    take different tasks instead of queueing on the same rows; SQLite's IMMEDIATE transactions
    (see settings) serialize the whole claim.
    """
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            _relaxed_commit(cursor)
        # Due retries first, then New tasks oldest first. Two queries, because an OR of the two
        # conditions can't use the (route, status, id) index and degrades to a scan of every
        # finished task on PostgreSQL.
        queries = [due_tasks(route_id, now, waiting_only=True).order_by("pk")]
        if not waiting_only:
            new = Task.objects.filter(route__enabled=True, status=Task.Status.NEW).order_by("pk")
            queries.append(new.filter(route_id=route_id) if route_id is not None else new)
        ids: list[int] = []
        for candidates in queries:
            if connection.features.has_select_for_update_skip_locked:
                candidates = candidates.select_for_update(skip_locked=True, of=("self",))
            ids += list(candidates.values_list("pk", flat=True)[: limit - len(ids)])
            if len(ids) >= limit:
                break
        if not ids:
            return []
        claimed = Task.objects.filter(pk__in=ids, status__in=CLAIMABLE)
        claimed.update(status=Task.Status.PROCESSING, processing_started_at=now, updated_at=now, claimed_by=_me())
        # Within this transaction the rows are ours (locked, or the database is), so the ids
        # still Processing with our timestamp are exactly the ones claimed.
        return list(Task.objects.filter(pk__in=ids, status=Task.Status.PROCESSING,
                                        processing_started_at=now).order_by("pk").values_list("pk", flat=True))


@dataclass
class PublishOutcome:
    status: str
    retry_at: datetime | None = None
    rate_limited: bool = False


@dataclass
class ProcessSummary:
    """What process_tasks() did; `retry_at` is the earliest time a Waiting task becomes due."""

    claimed: int = 0
    finished: int = 0
    failed: int = 0
    waiting: int = 0
    skipped: int = 0
    retry_at: datetime | None = None
    rate_limited_until: datetime | None = None  # set when a platform answered 429 during this call
    handed_back: int = 0  # claimed but returned to New unpublished (the worker was shutting down)
    routes: set = field(default_factory=set)

    def add(self, task_id: int, route_id: int, outcome: PublishOutcome) -> None:
        self.claimed += 1
        self.routes.add(route_id)
        key = {Task.Status.FINISHED: "finished", Task.Status.FAILED: "failed", Task.Status.WAITING: "waiting",
               Task.Status.SKIPPED: "skipped"}.get(outcome.status)
        if key:
            setattr(self, key, getattr(self, key) + 1)
        if outcome.retry_at and (self.retry_at is None or outcome.retry_at < self.retry_at):
            self.retry_at = outcome.retry_at

    def __str__(self) -> str:
        return (f"{self.claimed} tasks processed: {self.finished} finished, {self.waiting} waiting, "
                f"{self.failed} failed, {self.skipped} skipped")


class Publisher:
    """Publishes tasks of any route, keeping one ClientSession per HTTP client for a whole batch.

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
        from sync import publishing as sync_publishing

        self.flush()
        sync_publishing.close(self)  # sessions of HTTP request steps in outgoing transformers
        for session in self._sessions.values():
            session.close()
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
        from clients.http import ClientSession

        session = self._sessions.get(client.pk)
        if session is None:
            session = self._sessions[client.pk] = ClientSession(client, wait_on_rate_limit=False, max_retries=0)
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
        """
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        from sync import publishing as sync_publishing

        with transaction.atomic(), connection.cursor() as cursor:
            _relaxed_commit(cursor)
            cursor.executemany(_save_sql(), rows)
            # Destination ids of created records: saved with the outcomes that report them.
            sync_publishing.commit(self, {row[7] for row in rows if row[0] == Task.Status.FINISHED})


def _me() -> str:
    from .claims import me

    return me()


def _relaxed_commit(cursor) -> None:
    """On PostgreSQL, don't wait for this transaction's WAL flush (synchronous_commit off).

    Only a crash of the database server itself within a fraction of a second can lose such a
    commit, and then the task is back in Processing or New and is published again by the repair
    job: the same at-least-once promise as a worker crash. A worker crash loses nothing extra.
    """
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _save_sql() -> str:
    q = connection.ops.quote_name
    columns = ["status", "attempts", "last_error", "next_attempt_at", "response_status", "response_body",
               "updated_at"]
    sets = ", ".join(f"{q(Task._meta.get_field(name).column)} = %s" for name in columns)
    return (f"UPDATE {q(Task._meta.db_table)} SET {sets}, {q('processing_started_at')} = NULL "
            f"WHERE {q('id')} = %s AND {q('status')} = %s")


def process_tasks(route_id: int | None = None, *, waiting_only: bool = False, batch_size: int = CLAIM_BATCH,
                  max_tasks: int | None = None,
                  max_seconds: float | None = None, progress: Callable[[ProcessSummary], None] | None = None,
                  stop: Callable[[], bool] | None = None) -> ProcessSummary:
    """Claim and publish due tasks in batches until none are due (or a limit is reached).

    One call handles many tasks with one session per client: publishing one task per broker
    message would cost a message round trip per entity. Several workers may run this at once
    for the same route; claims never overlap. When `stop()` turns true (the worker is shutting
    down), the task in hand is finished and the rest of the claimed batch goes back to New.
    """
    summary = ProcessSummary()
    publisher = Publisher()
    try:
        _process(publisher, summary, route_id, waiting_only, batch_size, max_tasks, max_seconds, progress, stop)
    finally:
        publisher.close()
    return summary


def _process(publisher: Publisher, summary: ProcessSummary, route_id: int | None, waiting_only: bool,
             batch_size: int, max_tasks: int | None, max_seconds: float | None,
             progress: Callable[[ProcessSummary], None] | None, stop: Callable[[], bool] | None = None) -> None:
    started = time.monotonic()
    # route -> when its platform lets us call again, after a 429 in this call
    rate_limited: dict[int, datetime] = {}
    while True:
        if max_tasks is not None and summary.claimed >= max_tasks:
            break
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            break
        limit = batch_size if max_tasks is None else min(batch_size, max_tasks - summary.claimed)
        ids = claim_tasks(route_id, limit, waiting_only=waiting_only)
        if not ids:
            break
        batch = list(Task.objects.filter(pk__in=ids).order_by("pk"))
        for position, task in enumerate(batch):
            if stop and stop():
                publisher.flush()
                summary.handed_back += hand_back([t.pk for t in batch[position:]])
                return
            until = rate_limited.get(task.route_id)
            if until is not None and until > timezone.now():
                # The platform just told us to wait: don't hammer it with the rest of the batch.
                outcome = _release(task, until)
            else:
                outcome = publisher.publish(task)
                if outcome.rate_limited:
                    rate_limited[task.route_id] = outcome.retry_at
                    summary.rate_limited_until = max(filter(None, [summary.rate_limited_until, outcome.retry_at]))
            summary.add(task.pk, task.route_id, outcome)
        publisher.flush()  # a claimed batch ends with its outcomes saved
        if progress:
            progress(summary)
        if route_id is not None and route_id in rate_limited:
            break  # the rest waits for the platform's reset (process_route comes back then)


def hand_back(task_ids: list[int]) -> int:
    """Return claimed, unpublished tasks to New (a worker shutting down)."""
    return Task.objects.filter(pk__in=task_ids, status=Task.Status.PROCESSING).update(
        status=Task.Status.NEW, processing_started_at=None, claimed_by=None, updated_at=timezone.now())


def _release(task: Task, retry_at: datetime | None) -> PublishOutcome:
    """Give a claimed task back unpublished, due again at retry_at."""
    Task.objects.filter(pk=task.pk, status=Task.Status.PROCESSING).update(
        status=Task.Status.WAITING, next_attempt_at=retry_at, processing_started_at=None, updated_at=timezone.now())
    return PublishOutcome(Task.Status.WAITING, retry_at=retry_at)


def next_due_at(route_id: int | None = None) -> datetime | None:
    """When the earliest Waiting task of a route becomes due."""
    qs = Task.objects.filter(status=Task.Status.WAITING, next_attempt_at__isnull=False)
    if route_id is not None:
        qs = qs.filter(route_id=route_id)
    return qs.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()


def retry_tasks(task_ids: Iterable[int]) -> int:
    """Put failed, skipped or waiting tasks back to New with a fresh attempt budget."""
    return Task.objects.filter(pk__in=list(task_ids)).exclude(status=Task.Status.PROCESSING).update(
        status=Task.Status.NEW, attempts=0, next_attempt_at=None, last_error="", updated_at=timezone.now())


def skip_tasks(task_ids: Iterable[int]) -> int:
    """Mark tasks Skipped so they are never published (a task being published is left alone)."""
    return Task.objects.filter(pk__in=list(task_ids)).exclude(
        status__in=(Task.Status.PROCESSING, Task.Status.FINISHED)).update(
        status=Task.Status.SKIPPED, next_attempt_at=None, updated_at=timezone.now())


# --------------------------------------------------------------------------------------------
# Housekeeping: repair after crashes, retention
# --------------------------------------------------------------------------------------------


def repair(now: datetime | None = None) -> dict:
    """Hand back tasks stuck in Processing and resume runs whose worker stopped.

    Work held by a process of this host that no longer exists comes back at once
    (`claims.recover`). Otherwise a worker killed mid-publication leaves its claimed tasks in
    Processing until STUCK_TASK_TIMEOUT_MINUTES, then they return to New (so a publication may
    repeat: at least once); a run whose heartbeat is that old is queued again, up to
    MAX_RUN_RESUMES times, then marked Failed with the reason. `runs_resumed` lists the runs
    to hand to a worker.
    """
    from . import claims

    now = now or timezone.now()
    result = claims.recover(now)
    limit = now - timedelta(minutes=settings.STUCK_TASK_TIMEOUT_MINUTES)
    result["tasks_released"] += Task.objects.filter(status=Task.Status.PROCESSING).filter(
        Q(processing_started_at__lt=limit) | Q(processing_started_at__isnull=True, updated_at__lt=limit)
    ).update(status=Task.Status.NEW, processing_started_at=None, claimed_by=None,
             last_error="Returned to New: the worker publishing it stopped.", updated_at=now)
    resumed, failed = claims.resume_runs(list(claims.stale_runs(limit)), now)
    result["runs_resumed"] += resumed
    result["runs_failed"] += failed
    return result


def prune(now: datetime | None = None) -> dict[str, int]:
    """Delete finished tasks, runs and request logs past their retention period (in batches, see retention)."""
    from .retention import prune as prune_in_batches

    now = now or timezone.now()
    pruned = prune_in_batches(now)
    from storages.store import prune as prune_storages

    entries = sum(prune_storages(now).values())  # each storage's own time to live
    from audit.retention import prune as prune_audit_log

    audit = prune_audit_log(now)  # RETENTION_DAYS_AUDIT_LOG
    return {**pruned, "storage_entries": entries, "audit_entries": audit}

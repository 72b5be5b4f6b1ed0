"""Group commit: the requests a process accepts at the same time share one durable commit.

Each accepted request hands its row to this process's writer thread and waits. The writer takes
everything that waits, stores it in one transaction (one look-up of the webhooks' versions, one
INSERT for all rows) and commits; only then does each request learn its outcome and answer 202.
While one batch commits, the next one gathers: under load a commit is paid once per batch
instead of once per request, and with a single sender a batch is that one request (no waiting
for company). synchronous_commit is left as it is: the commit is as durable as any other.

A batch whose transaction fails (the INSERT or the COMMIT) stores nothing, and every request in
it is told so and answers 503: nothing is acknowledged that was not stored. A request that
waited longer than WEBHOOK_COMMIT_TIMEOUT_SECONDS answers 503 too; if its batch commits later,
the sender's retry stores the event a second time (a duplicate, never a loss).

A row whose webhook changed (another `updated_at`) or was disabled or deleted since the request
was judged is not stored: the request is told "stale" and judged again (definitions.py).

Inside a transaction (a test's, or ATOMIC_REQUESTS) the writer's connection could not see the
webhook or could wait on the caller's lock, so the row is stored on the caller's connection then.

The two statements are plain SQL built from the model's fields (each value prepared by its
field, as the ORM would): the ORM's per-row work cost more CPU than the database's on a
2-core machine, and it is the same INSERT.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import Webhook, WebhookRequest

log = logging.getLogger(__name__)

MAX_BATCH = 100  # rows per transaction; what waits beyond goes in the next one


class CommitFailed(Exception):
    """The request's batch was not committed (or not in time): nothing may be acknowledged."""


@dataclass(eq=False)
class Pending:
    row: dict[str, Any]  # WebhookRequest's values by attname; the fields not given take their default
    version: dt.datetime  # the webhook's updated_at the request was judged against
    done: threading.Event = field(default_factory=threading.Event)
    stored: bool = False
    error: BaseException | None = None


def _instant(value: Any) -> dt.datetime:
    """updated_at as read by a plain cursor (aware on PostgreSQL, naive UTC text on SQLite)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return timezone.make_aware(value, dt.UTC) if timezone.is_naive(value) else value


_defaults: dict[str, dict[str, Any]] = {}  # per database vendor: the fields' defaults as prepared for it


def _store(batch: list[Pending]) -> list[Pending]:
    """In the caller's transaction: the rows whose webhook is unchanged, inserted; returns them."""
    conn = connections[DEFAULT_DB_ALIAS]  # this thread's connection, looked up once
    ops = conn.ops
    ids = sorted({p.row["webhook_id"] for p in batch})
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT {ops.quote_name('id')}, {ops.quote_name('updated_at')} FROM "
            f"{ops.quote_name(Webhook._meta.db_table)} WHERE NOT {ops.quote_name('disabled')} AND "
            f"{ops.quote_name('id')} IN ({', '.join(['%s'] * len(ids))})", ids)
        current = {pk: _instant(updated_at) for pk, updated_at in cursor.fetchall()}
        fresh = [p for p in batch if current.get(p.row["webhook_id"]) == p.version]
        if fresh:
            fields = [f for f in WebhookRequest._meta.concrete_fields if not f.primary_key]
            defaults = _defaults.get(conn.vendor)
            if defaults is None:  # every row names received_at, so no default is a moment
                defaults = _defaults[conn.vendor] = {f.attname: f.get_db_prep_save(f.get_default(), conn)
                                                     for f in fields}
            values = [f.get_db_prep_save(p.row[f.attname], conn) if f.attname in p.row else defaults[f.attname]
                      for p in fresh for f in fields]
            row = f"({', '.join(['%s'] * len(fields))})"
            cursor.execute(
                f"INSERT INTO {ops.quote_name(WebhookRequest._meta.db_table)} "
                f"({', '.join(ops.quote_name(f.column) for f in fields)}) VALUES {', '.join([row] * len(fresh))}",
                values)
    return fresh


class GroupCommitter:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[Pending] = []
        self._thread: threading.Thread | None = None
        self._pid = 0
        # Counters (tests and curiosity): requests taken into a batch, committed batches, rows stored.
        self.taken = 0
        self.batches = 0
        self.rows = 0

    def store(self, row: dict[str, Any], version: dt.datetime) -> bool:
        """Store `row` (WebhookRequest values by attname) durably; True once committed, False when
        its webhook changed since `version` (judge the request again).

        Raises CommitFailed when it was not stored (or not known to be stored in time).
        """
        pending = Pending({"received_at": timezone.now(), **row}, version)
        if connection.in_atomic_block:
            with transaction.atomic():
                return bool(_store([pending]))
        with self._cond:
            self._ensure_writer()
            self._queue.append(pending)
            self._cond.notify()
        if not pending.done.wait(settings.WEBHOOK_COMMIT_TIMEOUT_SECONDS):
            raise CommitFailed("the commit did not finish in time")
        if pending.error is not None:
            raise CommitFailed(str(pending.error)) from pending.error
        return pending.stored

    def waiting(self) -> int:
        """Requests handed over and not yet taken into a batch."""
        with self._cond:
            return len(self._queue)

    def _ensure_writer(self) -> None:
        # A forked process (gunicorn's workers) inherits no threads: each process starts its own.
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            if self._pid != os.getpid():
                self._queue = []  # a parent's waiters do not exist in this process
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._write, name="webhook-group-commit", daemon=True)
            self._thread.start()

    def _write(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                self.taken += len(batch)
            try:
                with transaction.atomic():
                    fresh = _store(batch)
                # Here the COMMIT has returned: the rows are durable.
                for p in fresh:
                    p.stored = True
                self.batches += 1
                self.rows += len(fresh)
            except BaseException as exc:  # every waiter must hear of it, whatever it is
                log.error("webhook requests not stored (%d in the batch): %s", len(batch), exc.__class__.__name__)
                for p in batch:
                    p.error = exc
                    p.stored = False
                connection.close()  # a fresh connection for the next batch
                if not isinstance(exc, Exception):
                    for p in batch:
                        p.done.set()
                    raise
            finally:
                for p in batch:
                    p.done.set()
            if not self.waiting():
                # Idle: the connection is kept or closed as CONN_MAX_AGE says, like a request's.
                connection.close_if_unusable_or_obsolete()


committer = GroupCommitter()

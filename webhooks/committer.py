"""Group commit: the requests a process accepts at the same time share one durable commit.

Each accepted request hands its row to this process's writer threads and waits. An idle writer
takes everything that waits and stores it with one statement, committed on its own (the
webhooks' versions are checked in it); only then does each request learn its outcome and answer
202. While one batch commits, the next one gathers: under load a commit is paid once per batch
instead of once per request, and with a single sender a batch is that one request (no waiting
for company). synchronous_commit is left as it is: the commit is as durable as any other.
WEBHOOK_COMMIT_WRITERS writers (each its own connection; one on SQLite): what arrives while a
batch waits for its commit starts at once on another writer instead of queueing behind it, and
PostgreSQL flushes the WAL of commits that wait together once (its own group commit). Batches
are independent: each checks its own rows' versions and succeeds or fails as a whole.

A batch whose transaction fails (the INSERT or the COMMIT) stores nothing, and every request in
it is told so and answers 503: nothing is acknowledged that was not stored. A request that
waited longer than WEBHOOK_COMMIT_TIMEOUT_SECONDS answers 503 too; if its batch commits later,
the sender's retry stores the event a second time (a duplicate, never a loss).

A row whose webhook changed (another `updated_at`) or was disabled or deleted since the request
was judged is not stored: the request is told "stale" and judged again (definitions.py).

Inside a transaction (a test's, or ATOMIC_REQUESTS) the writer's connection could not see the
webhook or could wait on the caller's lock, so the row is stored on the caller's connection then.

A batch is one statement in autocommit, plain SQL built from the model's fields (each value
prepared by its field, as the ORM would): INSERT ... SELECT ... WHERE the webhook still has the
version the request was judged against, RETURNING what was stored. One round trip and one
commit per batch; the ORM's per-row work cost more CPU than the database's on a 2-core machine.
On PostgreSQL the writers prepare that statement (once per batch size and connection) and let
the server bind the values: parsing and planning it anew for every batch made each commit wait
longer (see _execute_prepared). The statement's text per batch size is built once per process.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

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


@dataclass(frozen=True)
class _Shape:
    """What every batch's statement is made of on one database vendor, worked out once per process."""

    fields: list  # WebhookRequest's concrete fields but the primary key, in column order
    version: Any  # Webhook.updated_at, the field each row's version is checked against
    defaults: dict[str, Any]  # the fields' defaults as prepared for the vendor (none of them is a moment)
    row: str  # one row of the VALUES list
    head: str  # the statement up to the VALUES list
    tail: str  # and after it


_shapes: dict[str, _Shape] = {}
_statements: dict[tuple[str, int], str] = {}  # (vendor, rows): the statement's text, the same every time


def _shape(conn) -> _Shape:
    shape = _shapes.get(conn.vendor)
    if shape is None:
        q = conn.ops.quote_name
        fields = [f for f in WebhookRequest._meta.concrete_fields if not f.primary_key]
        version = Webhook._meta.get_field("updated_at")
        # PostgreSQL types a VALUES list from its literals: each one is cast to its column's type.
        typed = conn.vendor == "postgresql"
        row = "(" + ", ".join([f"CAST(%s AS {f.db_type(conn)})" if typed else "%s" for f in fields]
                              + [f"CAST(%s AS {version.db_type(conn)})" if typed else "%s"]) + ")"
        columns = ", ".join(q(f.column) for f in fields)
        webhook = q(Webhook._meta.db_table)
        shape = _shapes[conn.vendor] = _Shape(
            fields=fields, version=version, row=row,
            defaults={f.attname: f.get_db_prep_save(f.get_default(), conn) for f in fields},
            head=f"WITH v ({columns}, {q('version')}) AS (VALUES ",
            tail=(f") INSERT INTO {q(WebhookRequest._meta.db_table)} ({columns}) "
                  f"SELECT {', '.join('v.' + q(f.column) for f in fields)} FROM v WHERE EXISTS ("
                  f"SELECT 1 FROM {webhook} w WHERE w.{q('id')} = v.{q('webhook_id')} "
                  f"AND w.{q('updated_at')} = v.{q('version')} AND NOT w.{q('disabled')}) "
                  f"RETURNING {q('webhook_id')}"))
    return shape


def _statement(conn, shape: _Shape, rows: int) -> str:
    key = (conn.vendor, rows)
    sql = _statements.get(key)
    if sql is None:
        sql = _statements[key] = shape.head + ", ".join([shape.row] * rows) + shape.tail
    return sql


def _store(batch: list[Pending], *, prepared: bool = False) -> list[Pending]:
    """One statement: the rows whose webhook still has their version (and is enabled), inserted.

    Outside a transaction (the writer) that statement is its own commit; inside one (the inline
    case) it is part of it. A batch never holds two versions of one webhook (see _take), so the
    rows returned per webhook tell which requests were stored: all of that webhook's, or none.
    `prepared` (the writers, on PostgreSQL): a server-side prepared statement with its values
    bound by the server; see _execute_prepared.
    """
    conn = connections[DEFAULT_DB_ALIAS]  # this thread's connection, looked up once
    shape = _shape(conn)
    values: list[Any] = []
    for p in batch:
        row = p.row
        values += [f.get_db_prep_save(row[f.attname], conn) if f.attname in row else shape.defaults[f.attname]
                   for f in shape.fields]
        values.append(shape.version.get_db_prep_value(p.version, conn))
    sql = _statement(conn, shape, len(batch))
    if prepared and conn.vendor == "postgresql":
        rows = _execute_prepared(conn, sql, values)
    else:
        with conn.cursor() as cursor:
            cursor.execute(sql, values)
            rows = cursor.fetchall()
    stored = {webhook_id for (webhook_id,) in rows}
    return [p for p in batch if p.row["webhook_id"] in stored]


def _execute_prepared(conn, sql: str, values: list[Any]) -> list[tuple]:
    """Run `sql` as a prepared statement on this writer's own connection.

    Django's cursors bind values in the client and never prepare (so that connection poolers
    work), and PostgreSQL then parses and plans the whole statement, 22 casts per row, for every
    batch: that planning was a good part of a batch's time in the database (benchmarks/README.md).
    A writer's connection is its own, used for nothing else, so there the statement of each batch
    size is prepared once (psycopg keeps them per connection) and each batch only binds its values;
    bytes go over in binary, not as hex text. A new connection prepares again.
    """
    conn.ensure_connection()
    raw = conn.connection
    if raw.prepare_threshold is None:  # Django turns psycopg's preparing off, prepare=True too
        raw.prepare_threshold = 1_000_000  # on again, for what asks (prepare=True) and nothing else
    # psycopg.Cursor binds on the server (Django's cursor class, a ClientCursor, never prepares).
    with conn.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, values, prepare=True)
        return cursor.fetchall()


def _take(queue: list[Pending]) -> tuple[list[Pending], list[Pending]]:
    """The next batch (at most MAX_BATCH, one version per webhook) and what stays queued, in order."""
    batch, rest, versions = [], [], {}
    for p in queue:
        webhook_id = p.row["webhook_id"]
        if len(batch) < MAX_BATCH and versions.setdefault(webhook_id, p.version) == p.version:
            batch.append(p)
        else:
            rest.append(p)
    return batch, rest


class GroupCommitter:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[Pending] = []
        self._threads: list[threading.Thread] = []
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

    def writers(self) -> int:
        """Writer threads (each with its own connection) of this process: WEBHOOK_COMMIT_WRITERS,
        one on SQLite, which lets one writer in at a time anyway."""
        return 1 if connection.vendor == "sqlite" else max(1, settings.WEBHOOK_COMMIT_WRITERS)

    def _ensure_writer(self) -> None:
        # A forked process (gunicorn's workers) inherits no threads: each process starts its own.
        if self._pid != os.getpid():
            self._queue = []  # a parent's waiters do not exist in this process
            self._threads = []
            self._pid = os.getpid()
        self._threads = [t for t in self._threads if t.is_alive()]
        while len(self._threads) < self.writers():
            thread = threading.Thread(target=self._write, name="webhook-group-commit", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _write(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                batch, self._queue = _take(self._queue)
                self.taken += len(batch)
            try:
                fresh = _store(batch, prepared=True)  # autocommit: when the statement returns, its rows are committed
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

"""Claiming tasks for publication, and the other status changes made outside a publication.

Publishing claims tasks with one conditional UPDATE (status New/Waiting -> Processing) under the
claimer's "host:pid" (claims.me), so two workers never publish the same task; a worker that dies
leaves its tasks in Processing until the repair job hands them back (claims.recover at once for a
dead process of this host, else after STUCK_TASK_TIMEOUT_MINUTES).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from .models import Task

CLAIM_BATCH = 50  # tasks claimed per UPDATE by a publisher
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
        if connection.vendor == "postgresql":  # the claimed ids come back with the UPDATE: one round trip less
            return _claim_returning(ids, now)
        claimed.update(status=Task.Status.PROCESSING, processing_started_at=now, updated_at=now, claimed_by=_me())
        # Within this transaction the rows are ours (locked, or the database is), so the ids
        # still Processing with our timestamp are exactly the ones claimed.
        return list(Task.objects.filter(pk__in=ids, status=Task.Status.PROCESSING,
                                        processing_started_at=now).order_by("pk").values_list("pk", flat=True))

def _claim_returning(ids: list[int], now: datetime) -> list[int]:
    """PostgreSQL: claim.update() above as one UPDATE ... RETURNING (the rows are locked by this transaction)."""
    q = connection.ops.quote_name
    table = q(Task._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {q('status')} = %s, {q('processing_started_at')} = %s, {q('updated_at')} = %s, "
            f"{q('claimed_by')} = %s WHERE {q('id')} = ANY(%s) AND {q('status')} IN (%s, %s) RETURNING {q('id')}",
            [Task.Status.PROCESSING, now, now, _me(), list(ids), *CLAIMABLE])
        return sorted(row[0] for row in cursor.fetchall())


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

def hand_back(task_ids: list[int]) -> int:
    """Return claimed, unpublished tasks to New (a worker shutting down)."""
    return Task.objects.filter(pk__in=task_ids, status=Task.Status.PROCESSING).update(
        status=Task.Status.NEW, processing_started_at=None, claimed_by=None, updated_at=timezone.now())

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

"""Keeping the summaries exact: fold pending deltas into the counts, reconcile with a fresh COUNT.

Both run as periodic jobs (summaries.tasks) and are safe to run at any time, concurrently with
workers changing tasks, and more than once at the same time.
"""
from __future__ import annotations

import logging

from django.db import connection, transaction
from django.db.models import Count

log = logging.getLogger(__name__)

# Only one fold at a time (a transaction-scoped advisory lock on PostgreSQL); the number is arbitrary.
_FOLD_LOCK = 7_141_401

_FOLD_TASKS = """
    WITH moved AS (DELETE FROM summaries_taskcountdelta RETURNING route_id, status, delta)
    INSERT INTO summaries_taskcount (route_id, status, "count")
    SELECT route_id, status, SUM(delta) FROM moved GROUP BY route_id, status ORDER BY route_id, status
    ON CONFLICT (route_id, status) DO UPDATE SET "count" = summaries_taskcount."count" + excluded."count"
"""
_FOLD_HOURS = """
    WITH moved AS (DELETE FROM summaries_requestloghourdelta RETURNING hour, total, errors)
    INSERT INTO summaries_requestloghour (hour, total, errors)
    SELECT hour, SUM(total), SUM(errors) FROM moved GROUP BY hour ORDER BY hour
    ON CONFLICT (hour) DO UPDATE SET total = summaries_requestloghour.total + excluded.total,
                                     errors = summaries_requestloghour.errors + excluded.errors
"""
_GONE_ROUTES = "DELETE FROM summaries_taskcount WHERE route_id NOT IN (SELECT id FROM connections_route)"


def fold() -> None:
    """Add the pending deltas into the counts (PostgreSQL; SQLite's triggers write the counts directly)."""
    if connection.vendor != "postgresql":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_FOLD_LOCK])
        if not cursor.fetchone()[0]:
            return  # another fold is at work
        cursor.execute(_FOLD_TASKS)
        cursor.execute(_FOLD_HOURS)


def prune_hours(before) -> int:
    """Drop hourly request counts older than `before` (the chart shows the last 24 hours)."""
    from .models import RequestLogHour, RequestLogHourDelta

    fold()
    RequestLogHourDelta.objects.filter(hour__lt=before).delete()
    return RequestLogHour.objects.filter(hour__lt=before).delete()[0]


def reconcile() -> dict[str, int]:
    """Compare every route's task counts with a fresh COUNT and correct any difference.

    With the triggers in place there should be none; a difference is logged, because it means
    something changed the table behind the triggers' back. Returns {"corrected": rows changed}.
    """
    if connection.vendor == "postgresql":
        corrected = _reconcile_postgresql()
    else:
        corrected = _reconcile_by_route()
    if corrected:
        log.warning("task counts corrected for %s (route, status) pairs", corrected)
    return {"corrected": corrected}


_RECONCILE_PG = """
    INSERT INTO summaries_taskcountdelta (route_id, status, delta)
    SELECT route_id, status, SUM(n) FROM (
        SELECT route_id, status, count(*) AS n FROM connections_task GROUP BY route_id, status
        UNION ALL SELECT route_id, status, -"count" FROM summaries_taskcount
        UNION ALL SELECT route_id, status, -delta FROM summaries_taskcountdelta
    ) AS difference
    WHERE route_id IN (SELECT id FROM connections_route)
    GROUP BY route_id, status HAVING SUM(n) <> 0
"""


def _reconcile_postgresql() -> int:
    # One snapshot for the fresh count and the summary (REPEATABLE READ): the correction is exactly
    # the difference at that instant, and changes committed after it carry their own deltas. Only
    # deltas are inserted, so this never conflicts with the workers or with fold().
    nested = connection.in_atomic_block  # inside a caller's transaction (tests) its isolation stays
    with transaction.atomic(), connection.cursor() as cursor:
        if not nested:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(_RECONCILE_PG)
        corrected = cursor.rowcount
    fold()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FOLD_LOCK])
        cursor.execute(_GONE_ROUTES)
    return corrected


def _reconcile_by_route() -> int:
    """SQLite: one short write transaction per route (a writer holds the whole database)."""
    from connections.models import Route, Task

    from .models import TaskCount

    corrected = 0
    for route_id in Route.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            fresh = dict(Task.objects.filter(route_id=route_id).order_by().values("status")
                         .annotate(n=Count("id")).values_list("status", "n"))
            kept = dict(TaskCount.objects.filter(route_id=route_id).values_list("status", "count"))
            for status in set(fresh) | set(kept):
                if fresh.get(status, 0) != kept.get(status, 0):
                    TaskCount.objects.update_or_create(route_id=route_id, status=status,
                                                       defaults={"count": fresh.get(status, 0)})
                    corrected += 1
    with connection.cursor() as cursor:
        cursor.execute(_GONE_ROUTES)
    return corrected

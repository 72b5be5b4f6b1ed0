"""Reading the summaries: task counts per route and status, request logs per hour.

Each read is one statement, so it sees the counts and the pending deltas (PostgreSQL) at one
instant even while `maintenance.fold()` moves deltas into the counts.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone

_TASK_COUNTS = """
    SELECT route_id, status, SUM(n) FROM (
        SELECT route_id, status, "count" AS n FROM summaries_taskcount
        UNION ALL SELECT route_id, status, delta FROM summaries_taskcountdelta
    ) AS counts WHERE route_id IN (SELECT id FROM connections_route) {where} GROUP BY route_id, status
"""

_HOURS = """
    SELECT hour, SUM(total), SUM(errors) FROM (
        SELECT hour, total, errors FROM summaries_requestloghour WHERE hour >= %s AND hour < %s
        UNION ALL SELECT hour, total, errors FROM summaries_requestloghourdelta WHERE hour >= %s AND hour < %s
    ) AS hours GROUP BY hour
"""


def task_counts(route_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
    """{route id: {status: count}} for existing routes (all, or those given); missing means 0."""
    where, params = "", []
    if route_ids is not None:
        if not route_ids:
            return {}
        where = f"AND route_id IN ({', '.join(['%s'] * len(route_ids))})"
        params = list(route_ids)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(_TASK_COUNTS.format(where=where), params)
        for route_id, status, n in cursor.fetchall():
            if n:
                counts[route_id][status] = int(n)
    return dict(counts)


def status_totals() -> dict[str, int]:
    """{status: count} over every route."""
    totals: dict[str, int] = defaultdict(int)
    for by_status in task_counts().values():
        for status, n in by_status.items():
            totals[status] += n
    return dict(totals)


def requests_per_hour(start: datetime, end: datetime) -> dict[datetime, tuple[int, int]]:
    """{hour (UTC, aware): (requests, failed)} for the hours in [start, end)."""
    ops = connection.ops
    bounds = [ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)]
    hours = {}
    with connection.cursor() as cursor:
        cursor.execute(_HOURS, bounds * 2)
        for hour, total, errors in cursor.fetchall():
            if isinstance(hour, str):  # SQLite hands back the stored text
                hour = datetime.fromisoformat(hour)
            if timezone.is_naive(hour):
                hour = timezone.make_aware(hour, UTC)
            hours[hour] = (int(total or 0), int(errors or 0))
    return hours

"""Retention: deleting finished tasks, old runs and old request logs in bounded batches.

One DELETE of every old row would hold the database for as long as it takes: on SQLite, pruning
500,000 request logs kept the write lock for 9 s, so workers and pages waited on "database is
locked" (and a larger backlog would take longer). Here each batch of RETENTION_BATCH rows is its
own short transaction, with a pause between batches in which waiting writers get their turn. Rows
that point at a run are detached in batches too before the run goes, so deleting a run of
200,000 tasks is never one 200,000-row UPDATE.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Run, Task

DONE_TASKS = (Task.Status.FINISHED, Task.Status.SKIPPED, Task.Status.FAILED)
DONE_RUNS = (Run.Status.FINISHED, Run.Status.FAILED, Run.Status.CANCELLED)


def _batches(queryset: QuerySet, work) -> int:
    """Call work(ids) on batches of at most RETENTION_BATCH primary keys of `queryset` until none are left.

    Unordered on purpose: ordering by id would sort every matching row to find a batch; the
    filter's own index hands out any batch at once.
    """
    size, pause = settings.RETENTION_BATCH, settings.RETENTION_PAUSE_SECONDS
    done = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:size])
        if not ids:
            return done
        with transaction.atomic():
            done += work(ids)
        if len(ids) < size:
            return done
        time.sleep(pause)


def delete_in_batches(queryset: QuerySet) -> int:
    """Delete the rows of `queryset` (with Django's cascades) batch by batch; returns how many."""
    model = queryset.model
    return _batches(queryset, lambda ids: model.objects.filter(pk__in=ids).delete()[1].get(model._meta.label, 0))


def detach_in_batches(queryset: QuerySet, **nulls) -> int:
    """Set the given foreign keys to None on the rows of `queryset`, batch by batch."""
    model = queryset.model
    return _batches(queryset, lambda ids: model.objects.filter(pk__in=ids).update(**nulls))


def prune(now: datetime | None = None) -> dict[str, int]:
    """Delete finished tasks, runs and request logs past their retention period, in batches."""
    from clients.models import RequestLog
    from summaries.maintenance import prune_hours

    now = now or timezone.now()
    log_limit = now - timedelta(days=settings.RETENTION_DAYS_REQUEST_LOGS)
    logs = delete_in_batches(RequestLog.objects.filter(created_at__lt=log_limit))
    tasks = delete_in_batches(Task.objects.filter(
        status__in=DONE_TASKS, updated_at__lt=now - timedelta(days=settings.RETENTION_DAYS_TASKS)))
    old_runs = Run.objects.filter(status__in=DONE_RUNS,
                                  created_at__lt=now - timedelta(days=settings.RETENTION_DAYS_RUNS))
    runs = 0
    while ids := list(old_runs.order_by().values_list("pk", flat=True)[:settings.RETENTION_BATCH]):
        # What still points at these runs (unfinished tasks, kept logs) loses the link first, in batches.
        detach_in_batches(Task.objects.filter(run_id__in=ids), run=None)
        detach_in_batches(RequestLog.objects.filter(run_id__in=ids), run=None)
        runs += delete_in_batches(Run.objects.filter(pk__in=ids))
        if len(ids) < settings.RETENTION_BATCH:
            break
    prune_hours(now - timedelta(days=2))  # the dashboard's chart shows the last 24 hours
    vacuum([table for table, n in (("clients_requestlog", logs), ("connections_task", tasks),
                                   ("connections_run", runs)) if n])
    return {"tasks": tasks, "runs": runs, "request_logs": logs}


def vacuum(tables: list[str]) -> None:
    """PostgreSQL: VACUUM ANALYZE the tables retention deleted from, at once.

    The oldest rows are gone but their index entries stay until a vacuum, and the planner, estimating
    a range at a table's low end, reads through them in every plan: after two days of request logs
    pruned from 10M, the admin's request-log search took 434 ms to plan and 0.1 ms to run.
    Autovacuum waits for 20 % of a table to be dead: days of pruning. Skipped inside a transaction
    (VACUUM cannot run in one) and on SQLite (its B-trees drop deleted entries at once).
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")

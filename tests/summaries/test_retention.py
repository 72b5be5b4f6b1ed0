"""Retention deletes in bounded batches, keeps what is not old enough, and keeps the counts right."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import HttpClient, RequestLog
from connections import engine
from connections.models import Run, Task
from summaries import counts as summaries

from .conftest import fresh_counts, kept_counts


def test_prune_deletes_old_rows_in_batches_and_keeps_the_rest(route, settings):
    settings.RETENTION_BATCH = 10
    settings.RETENTION_PAUSE_SECONDS = 0
    old = timezone.now() - timedelta(days=400)
    client = HttpClient.objects.get(identifier="shop")
    old_run, new_run = Run.objects.create(incoming=route.incoming, status="finished", created_at=old), \
        Run.objects.create(incoming=route.incoming, status="finished")
    tasks = Task.objects.bulk_create(
        [Task(route=route, run=old_run, dedupe_key=f"old{i}", data={}, status="finished") for i in range(35)]
        + [Task(route=route, run=old_run, dedupe_key=f"waiting{i}", data={}, status="waiting") for i in range(12)]
        + [Task(route=route, run=new_run, dedupe_key=f"new{i}", data={}, status="finished") for i in range(5)])
    Task.objects.filter(dedupe_key__startswith="old").update(updated_at=old)
    Task.objects.filter(dedupe_key__startswith="waiting").update(updated_at=old)
    RequestLog.objects.bulk_create(
        [RequestLog(client=client, run=old_run, task=tasks[i], method="GET", url="u", created_at=old)
         for i in range(25)]
        + [RequestLog(client=client, run=old_run, task=tasks[40], method="GET", url="u") for _ in range(3)])

    with CaptureQueriesContext(connection) as queries:
        result = engine.prune()

    assert (result["tasks"], result["request_logs"], result["runs"]) == (35, 25, 1)
    assert set(Task.objects.values_list("dedupe_key", flat=True)) == {f"waiting{i}" for i in range(12)} | {
        f"new{i}" for i in range(5)}
    assert not Task.objects.filter(run=old_run).exists() and RequestLog.objects.filter(run=None).count() == 3
    assert list(Run.objects.values_list("pk", flat=True)) == [new_run.pk]
    # Every statement touched one batch at most: no DELETE or UPDATE names more than 10 ids.
    for query in queries.captured_queries:
        sql = query["sql"]
        if sql.startswith(("DELETE", "UPDATE")) and " IN (" in sql:
            assert sql.split(" IN (", 1)[1].split(")")[0].count(",") < 10, sql
    deletes = [q for q in queries.captured_queries if q["sql"].startswith('DELETE FROM "connections_task"')]
    assert len(deletes) >= 4  # 35 tasks in batches of 10
    assert kept_counts(fold=True) == fresh_counts()


def test_prune_drops_hourly_request_counts_past_the_chart(route):
    client = HttpClient.objects.get(identifier="shop")
    RequestLog.objects.create(client=client, method="GET", url="u", created_at=timezone.now() - timedelta(days=3))
    RequestLog.objects.create(client=client, method="GET", url="u", status=500)
    engine.prune()
    now = timezone.now()
    hours = summaries.requests_per_hour(now - timedelta(days=10), now + timedelta(hours=1))
    assert list(hours.values()) == [(1, 1)]


@pytest.mark.django_db(transaction=True)
def test_prune_vacuums_what_it_deleted_from_on_postgresql(settings):
    from tests.lists.conftest import make_route

    route = make_route()
    client = HttpClient.objects.get(identifier="shop")
    old = timezone.now() - timedelta(days=400)
    RequestLog.objects.bulk_create([RequestLog(client=client, method="GET", url="u", created_at=old)
                                    for _ in range(5)])
    Task.objects.create(route=route, dedupe_key="new", data={}, status="finished")
    with CaptureQueriesContext(connection) as queries:
        engine.prune()
    vacuums = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("VACUUM")]
    if connection.vendor == "postgresql":
        assert vacuums == ['VACUUM (ANALYZE) "clients_requestlog"']  # no task or run was old enough
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                           "WHERE relname = 'clients_requestlog'")
            assert cursor.fetchone() == (True,)
    else:
        assert vacuums == []
    assert RequestLog.objects.count() == 0

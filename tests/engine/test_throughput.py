"""Publishing throughput without losing anything: request logs written in batches with the outcomes,
connections kept across publisher messages (real sockets to the fakes, in-process engine)."""
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients import transports
from clients.models import RequestLog
from connections import engine
from connections.models import Task
from summaries.counts import requests_per_hour


def make_tasks(pipeline) -> list[int]:
    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)  # in-process, nothing published yet
    assert run.status == "finished", run.error
    return list(Task.objects.filter(route=pipeline.route).order_by("pk").values_list("pk", flat=True))


def log_inserts(queries) -> list[str]:
    table = RequestLog._meta.db_table
    return [q["sql"] for q in queries if q["sql"].startswith("INSERT") and table in q["sql"].split("(")[0]]


def test_request_logs_of_a_publication_are_written_in_batches_one_per_call(db, source, destination):
    from .conftest import build_pipeline

    pipeline = build_pipeline(source, destination, backoff=3600)  # the failed ones wait, not retried here
    ids = make_tasks(pipeline)  # 300
    pipeline.destination.fail_next(500, times=3)  # three failed calls are logged too (and linked to their task)
    client = pipeline.outgoing.client
    before = RequestLog.objects.filter(client=client).count()

    with CaptureQueriesContext(connection) as queries:
        summary = engine.process_tasks(pipeline.route.pk)

    assert summary.claimed == 300 and summary.finished == 297 and summary.waiting == 3
    logs = RequestLog.objects.filter(client=client)
    assert logs.count() - before == pipeline.destination.request_count == 300
    # exactly one per call, each linked to the task it published
    assert sorted(logs.values_list("task_id", flat=True)) == ids
    assert sorted(logs.filter(status=500).values_list("task_id", flat=True)) == sorted(
        Task.objects.filter(status=Task.Status.WAITING).values_list("pk", flat=True))
    # one INSERT per saved batch of outcomes, not one per call
    inserts = log_inserts(queries.captured_queries)
    assert 0 < len(inserts) <= 300 // engine.SAVE_EVERY + 10, len(inserts)
    # the kept hourly counts (database triggers) see bulk inserts too
    now = timezone.now()
    total = sum(n for n, _failed in requests_per_hour(now - timedelta(hours=2), now + timedelta(hours=1)).values())
    assert total == RequestLog.objects.count()


def test_logs_are_not_written_when_the_client_does_not_log_and_calls_succeed(db, source, destination):
    from .conftest import build_pipeline

    pipeline = build_pipeline(source, destination, log_requests=False)
    make_tasks(pipeline)
    engine.process_tasks(pipeline.route.pk)
    assert not RequestLog.objects.filter(client=pipeline.outgoing.client).exists()
    assert Task.objects.filter(status=Task.Status.FINISHED).count() == 300


def test_publisher_messages_reuse_the_connection_to_the_platform(pipeline):
    transports.close_all()
    make_tasks(pipeline)
    for _message in range(3):  # three publisher messages in one worker process
        summary = engine.process_tasks(pipeline.route.pk, max_tasks=100)
        assert summary.finished == 100
    assert pipeline.destination.request_count == 300
    assert pipeline.destination.connections == 1  # one TCP connection for the three messages


def test_a_changed_client_gets_a_new_connection_with_its_new_settings(pipeline):
    transports.close_all()
    make_tasks(pipeline)
    engine.process_tasks(pipeline.route.pk, max_tasks=100)
    client = pipeline.outgoing.client
    client.refresh_from_db()
    client.settings = {**client.settings, "user_agent_contact": "ops@example.org"}
    client.save()  # an edit in the dashboard

    engine.process_tasks(pipeline.route.pk, max_tasks=100)

    assert pipeline.destination.connections == 2
    assert pipeline.destination.request_count == 200


def test_a_connection_idle_too_long_is_not_reused(pipeline, monkeypatch):
    transports.close_all()
    make_tasks(pipeline)
    engine.process_tasks(pipeline.route.pk, max_tasks=100)
    monkeypatch.setattr(transports, "IDLE_SECONDS", -1.0)
    engine.process_tasks(pipeline.route.pk, max_tasks=100)
    assert pipeline.destination.connections == 2


def test_a_kept_connection_carries_no_headers_or_cookies_of_the_previous_session(pipeline):
    transports.close_all()
    client = pipeline.outgoing.client
    session, kept = transports.acquire(client)
    assert kept
    session.headers["X-Left-Over"] = "1"
    session.cookies.set("left", "over")
    transports.release(client.pk, session)

    make_tasks(pipeline)
    engine.process_tasks(pipeline.route.pk, max_tasks=5)

    sent = pipeline.destination.published[-1]
    assert sent.header("X-Left-Over") is None and "left=over" not in (sent.header("Cookie") or "")
    assert pipeline.destination.connections == 1

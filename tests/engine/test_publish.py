"""Publishing tasks: requests built from task data, outcomes per status code, claims, without a broker."""
from datetime import UTC, timedelta

from django.utils import timezone

from connections import engine
from connections.models import Run, Task


def subscribe(pipeline):
    return engine.execute_run(engine.start_run(pipeline.incoming).pk)


def test_every_task_is_published_once_and_finished(pipeline):
    subscribe(pipeline)

    summary = engine.process_tasks(pipeline.route.pk)

    assert summary.finished == 300 and summary.failed == 0
    assert Task.objects.filter(route=pipeline.route, status=Task.Status.FINISHED).count() == 300
    received = pipeline.destination.published
    assert len(received) == 300
    assert {r.path for r in received} == {"/api/v1/persons"}
    assert sorted(pipeline.published_names(), key=lambda n: int(n.split()[1])) == [
        f"Record {i}" for i in range(1, 301)]
    task = Task.objects.get(route=pipeline.route, data__id=5)
    assert task.attempts == 1 and task.response_status == 201
    assert '"success":true' in task.response_body
    log = task.request_logs.get()
    assert log.method == "POST" and log.status == 201 and log.client == pipeline.outgoing.client


def test_rate_limit_then_server_errors_then_success(pipeline):
    subscribe(pipeline)
    Task.objects.exclude(data__id=1).update(status=Task.Status.SKIPPED)
    task = Task.objects.get(route=pipeline.route, data__id=1)
    pipeline.destination.fail_next(429, retry_after=7)
    pipeline.destination.fail_next(500, times=2)

    engine.process_tasks(pipeline.route.pk)
    task.refresh_from_db()
    assert task.status == Task.Status.WAITING and task.attempts == 0  # a 429 is not a failed attempt
    assert task.response_status == 429
    assert 6 <= (task.next_attempt_at - timezone.now()).total_seconds() <= 7.5

    assert engine.process_tasks(pipeline.route.pk).claimed == 0  # not due yet
    for expected_attempts, delay in ((1, 1), (2, 2)):
        Task.objects.filter(pk=task.pk).update(next_attempt_at=timezone.now())  # time passes
        engine.process_tasks(pipeline.route.pk)
        task.refresh_from_db()
        assert task.status == Task.Status.WAITING
        assert task.attempts == expected_attempts and task.response_status == 500
        # backoff (1 s) doubled per attempt
        assert delay - 0.5 <= (task.next_attempt_at - timezone.now()).total_seconds() <= delay + 0.5
        assert f"attempt {expected_attempts} of 5" in task.last_error
        # the message may not say the POST is never retried and then name its next attempt
        assert "not retried" not in task.last_error and "next attempt at" in task.last_error

    Task.objects.filter(pk=task.pk).update(next_attempt_at=timezone.now())
    engine.process_tasks(pipeline.route.pk)
    task.refresh_from_db()
    assert task.status == Task.Status.FINISHED and task.attempts == 3
    assert task.request_logs.count() == 4
    assert sorted(task.request_logs.values_list("status", flat=True)) == [201, 429, 500, 500]
    assert len(pipeline.destination.published) == 1


def test_a_spent_daily_budget_parks_the_route_until_the_next_utc_day(pipeline):
    subscribe(pipeline)
    pipeline.destination.fail_next(
        429, headers={"x-ratelimit-reset": "2", "x-daily-ratelimit-token-remaining": "0"})

    summary = engine.process_tasks(pipeline.route.pk)

    tomorrow = (timezone.now() + timedelta(days=1)).astimezone(UTC)
    due = tomorrow.replace(hour=0, minute=1, second=0, microsecond=0)  # a minute of margin for clock skew
    assert summary.finished == 0 and len(pipeline.destination.published) == 0  # one 429, then no more calls
    assert pipeline.destination.request_count == 1
    parked = Task.objects.filter(route=pipeline.route, status=Task.Status.WAITING)
    assert parked.count() > 1  # the rest of the claimed batch is handed back, due at the same time
    assert all(abs((at - due).total_seconds()) < 5 for at in parked.values_list("next_attempt_at", flat=True))
    task = parked.get(response_status=429)
    assert task.attempts == 0
    assert "daily API budget for this account is used up" in task.last_error
    assert f"next attempt at {due:%Y-%m-%d %H:}" in task.last_error


def test_a_permanent_400_fails_with_the_body_shown(pipeline):
    subscribe(pipeline)
    Task.objects.exclude(data__id=1).update(status=Task.Status.SKIPPED)
    pipeline.destination.fail_next(400, body={"success": False, "error": "Name is required"})

    engine.process_tasks(pipeline.route.pk)

    task = Task.objects.get(route=pipeline.route, data__id=1)
    assert task.status == Task.Status.FAILED
    assert task.response_status == 400 and "Name is required" in task.response_body
    assert "400" in task.last_error
    assert engine.process_tasks(pipeline.route.pk).claimed == 0  # failed tasks are not retried


def test_server_errors_fail_after_max_attempts(db, source, destination):
    from .conftest import build_pipeline

    pipeline = build_pipeline(source, destination, max_attempts=2, backoff=0)
    subscribe(pipeline)
    Task.objects.exclude(data__id=1).update(status=Task.Status.SKIPPED)
    destination.fail_next(503, times=5)

    engine.process_tasks(pipeline.route.pk)  # attempt 1: waiting, due at once (backoff 0)
    engine.process_tasks(pipeline.route.pk)  # attempt 2: the last one

    task = Task.objects.get(route=pipeline.route, data__id=1)
    assert task.status == Task.Status.FAILED and task.attempts == 2
    assert "gave up after 2 attempts" in task.last_error


def test_without_retry_on_failure_a_5xx_fails_at_once(db, source, destination):
    from .conftest import build_pipeline

    pipeline = build_pipeline(source, destination, retry=False)
    subscribe(pipeline)
    Task.objects.exclude(data__id=1).update(status=Task.Status.SKIPPED)
    destination.fail_next(500)

    engine.process_tasks(pipeline.route.pk)

    assert Task.objects.get(route=pipeline.route, data__id=1).status == Task.Status.FAILED


def test_a_claimed_task_cannot_be_claimed_again(pipeline):
    subscribe(pipeline)

    first = engine.claim_tasks(pipeline.route.pk, limit=120)
    second = engine.claim_tasks(pipeline.route.pk, limit=500)

    assert len(first) == 120 and len(second) == 180
    assert not set(first) & set(second)
    assert engine.claim_tasks(pipeline.route.pk) == []


def test_repair_returns_stuck_tasks_and_resumes_dead_runs(pipeline, settings):
    run = subscribe(pipeline)
    claimed = engine.claim_tasks(pipeline.route.pk, limit=10)
    long_ago = timezone.now() - timedelta(minutes=settings.STUCK_TASK_TIMEOUT_MINUTES + 1)
    Task.objects.filter(pk__in=claimed[:4]).update(processing_started_at=long_ago)
    run.status = "running"
    run.heartbeat_at = long_ago
    run.save()

    result = engine.repair()

    assert result == {"tasks_released": 4, "runs_resumed": [run.pk], "runs_failed": 0}
    assert Task.objects.filter(pk__in=claimed[:4], status=Task.Status.NEW).count() == 4
    assert Task.objects.filter(pk__in=claimed[4:], status=Task.Status.PROCESSING).count() == 6
    run.refresh_from_db()
    assert run.status == "queued" and run.resumes == 1
    assert f"stopped at page {run.pages + 1}" in run.error and "started again automatically" in run.error


def test_repair_fails_a_dead_run_that_has_used_up_its_resumes(pipeline, settings):
    run = subscribe(pipeline)
    long_ago = timezone.now() - timedelta(minutes=settings.STUCK_TASK_TIMEOUT_MINUTES + 1)
    Run.objects.filter(pk=run.pk).update(status="running", heartbeat_at=long_ago, resumes=settings.MAX_RUN_RESUMES)

    assert engine.repair()["runs_failed"] == 1

    run.refresh_from_db()
    assert run.status == "failed" and f"after {settings.MAX_RUN_RESUMES} automatic resumes" in run.error
    assert run.error_step == f"page {run.pages + 1}"  # the page it was reading when its worker stopped


def test_retry_and_skip(pipeline):
    subscribe(pipeline)
    ids = list(Task.objects.filter(route=pipeline.route).values_list("pk", flat=True)[:3])
    Task.objects.filter(pk=ids[0]).update(status=Task.Status.FAILED, attempts=5, last_error="boom")

    assert engine.skip_tasks(ids[1:]) == 2
    assert engine.retry_tasks(ids[:1]) == 1

    statuses = dict(Task.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses == {ids[0]: "new", ids[1]: "skipped", ids[2]: "skipped"}
    assert Task.objects.get(pk=ids[0]).attempts == 0


def test_prune_deletes_only_what_is_past_retention(pipeline, settings):
    from clients.models import RequestLog

    run = subscribe(pipeline)
    engine.process_tasks(pipeline.route.pk, max_tasks=10)
    old = timezone.now() - timedelta(days=400)
    finished = list(Task.objects.filter(status=Task.Status.FINISHED).values_list("pk", flat=True))
    Task.objects.filter(pk__in=finished[:5]).update(updated_at=old)
    Task.objects.filter(status=Task.Status.NEW).update(updated_at=old)  # pending: kept whatever its age
    RequestLog.objects.filter(run=run).update(created_at=old)

    result = engine.prune()

    assert result["tasks"] == 5
    assert result["request_logs"] == 4
    assert result["runs"] == 0  # the run is recent
    assert Task.objects.count() == 295

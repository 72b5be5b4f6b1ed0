"""End to end: a separately started `celery worker` process runs the route against real local fakes.

Runs once on the embedded filesystem broker and once on Redis (the `broker` fixture).
"""
from datetime import timedelta

import pytest
from django.utils import timezone

from connections import tasks as jobs
from connections.models import Run, Task
from tests.fakes.platforms import FakePicqer, FakePipedrive
from tests.fakes.server import Reply
from tests.support.worker import wait_for

from .conftest import build_pipeline
from .test_subscribe import fail_page

pytestmark = [pytest.mark.worker, pytest.mark.slow]


@pytest.fixture
def fakes():
    with FakePicqer(records=300) as source, FakePipedrive() as destination:
        yield source, destination


def finished(route, count):
    return Task.objects.filter(route=route, status=Task.Status.FINISHED).count() == count


def test_three_pages_become_three_hundred_published_requests(start_worker, transactional_db, fakes):
    source, destination = fakes
    pipeline = build_pipeline(source, destination)
    worker = start_worker()

    run = jobs.start_run(pipeline.incoming)

    wait_for(lambda: finished(pipeline.route, 300), timeout=90, message="300 finished tasks")
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED, run.error
    assert (run.pages, run.entities, run.tasks_created) == (4, 300, 300)
    assert run.worker.startswith("test-")  # run by the worker process, not here
    assert len(destination.published) == 300
    assert len(set(pipeline.published_names())) == 300
    task = Task.objects.get(route=pipeline.route, data__id=150)
    assert task.request_logs.get().status == 201
    assert run.request_logs.count() == 4
    assert "connections.execute_run" in worker.output()


def test_rate_limit_then_two_server_errors_then_created(start_worker, transactional_db):
    with FakePicqer(records=1) as source, FakePipedrive() as destination:
        pipeline = build_pipeline(source, destination, backoff=1)
        destination.fail_next(429, retry_after=1)
        destination.fail_next(500, times=2)
        start_worker()

        jobs.start_run(pipeline.incoming)

        task = wait_for(lambda: Task.objects.filter(route=pipeline.route).first(), message="the task")
        wait_for(lambda: Task.objects.filter(pk=task.pk, status=Task.Status.WAITING).exists(), timeout=30,
                 interval=0.02, message="the task waiting after the 429")
        wait_for(lambda: finished(pipeline.route, 1), timeout=60, message="the task finished")
        task.refresh_from_db()
        assert task.attempts == 3  # two 500s and the 201; the 429 is not counted
        assert list(task.request_logs.order_by("created_at", "pk").values_list("status", flat=True)) == [
            429, 500, 500, 201]
        assert len(destination.published) == 1


def test_a_permanent_400_fails_and_shows_the_body(start_worker, transactional_db):
    with FakePicqer(records=1) as source, FakePipedrive() as destination:
        pipeline = build_pipeline(source, destination)
        destination.fail_next(400, body={"success": False, "error": "Invalid email address"})
        start_worker()

        jobs.start_run(pipeline.incoming)

        task = wait_for(lambda: Task.objects.filter(route=pipeline.route, status=Task.Status.FAILED).first(),
                        timeout=60, message="the failed task")
        assert task.response_status == 400
        assert "Invalid email address" in task.response_body


def test_worker_killed_mid_publication_loses_nothing(start_worker, transactional_db):
    with FakePicqer(records=5) as source, FakePipedrive() as destination:
        pipeline = build_pipeline(source, destination)
        destination.delay = 60  # the destination hangs: the worker is stuck inside a publication
        worker = start_worker()

        jobs.start_run(pipeline.incoming)
        wait_for(lambda: destination.request_count >= 1, timeout=60, message="a publication in flight")
        worker.kill()  # SIGKILL, main process and pool child

        # the whole claimed batch is left in Processing by the dead worker
        stuck = list(Task.objects.filter(route=pipeline.route, status=Task.Status.PROCESSING))
        assert stuck
        assert Task.objects.filter(route=pipeline.route).count() == 5
        destination.delay = 0
        # STUCK_TASK_TIMEOUT_MINUTES pass (the clock is moved, not waited for) ...
        Task.objects.filter(status=Task.Status.PROCESSING).update(
            processing_started_at=timezone.now() - timedelta(minutes=60))
        start_worker()
        jobs.repair.delay()  # ... and the periodic repair job runs, as beat would start it

        wait_for(lambda: finished(pipeline.route, 5), timeout=90, message="all five tasks finished")
        assert Task.objects.filter(route=pipeline.route).count() == 5  # no duplicate task
        # at least once: the hung request may also have been recorded by the destination
        assert {f"Record {i}" for i in range(1, 6)} <= set(pipeline.published_names())
        assert {t.attempts for t in Task.objects.filter(route=pipeline.route)} == {1}


def test_source_failing_on_page_2_keeps_the_tasks_of_page_1(start_worker, transactional_db, fakes):
    source, destination = fakes
    pipeline = build_pipeline(source, destination, realtime=False)
    fail_page(source, 2, Reply(500, {"error": True, "error_message": "database unavailable"}))
    # no retry inside the session for this test: make page 2 fail for good
    fail_page(source, 3, Reply(500, {"error": True}))
    fail_page(source, 4, Reply(500, {"error": True}))
    fail_page(source, 5, Reply(500, {"error": True}))
    start_worker()

    run = jobs.start_run(pipeline.incoming)

    run = wait_for(lambda: Run.objects.filter(pk=run.pk, status=Run.Status.FAILED).first(), timeout=90,
                   message="the failed run")
    assert run.error_step == "page 2"
    assert "500" in run.error
    assert run.pages == 1 and run.tasks_created == 100
    assert Task.objects.filter(route=pipeline.route, status=Task.Status.NEW).count() == 100
    assert destination.published == []  # scheduled processing: nothing published until its scheduler runs

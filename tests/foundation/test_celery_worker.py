"""The web side enqueues; a separately started `celery worker` process executes."""
from connections.models import WorkerHeartbeat
from connections.tasks import heartbeat
from tests.support.worker import wait_for


def test_a_separate_worker_process_runs_a_task_enqueued_here(start_worker, broker):
    worker = start_worker()
    assert not WorkerHeartbeat.objects.exists()

    heartbeat.delay()

    beat = wait_for(lambda: WorkerHeartbeat.objects.first(), timeout=60, message="the worker's heartbeat row")
    assert beat.hostname  # written by the worker process, not by this one
    assert worker.proc.poll() is None
    assert "connections.heartbeat" in worker.output()

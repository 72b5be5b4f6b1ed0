"""Real worker processes stopped in the middle of work: SIGTERM hands the work back at once, and a
worker started after a SIGKILL resumes the killed run and publication (no 15-minute wait)."""
import signal

import pytest
from django.db.models import Count

from connections import tasks as jobs
from connections.models import Run, Task
from tests.fakes.platforms import FakePicqer, FakePipedrive
from tests.support.worker import wait_for

from .conftest import build_pipeline

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def count(route, status) -> int:
    return Task.objects.filter(route=route, status=status).count()


def test_sigterm_mid_publication_finishes_the_task_in_hand_and_hands_back_the_rest(start_worker,
                                                                                     transactional_db):
    with FakePicqer(records=200) as source, FakePipedrive() as destination:
        pipeline = build_pipeline(source, destination)
        destination.delay = 1.0  # a slow destination: a publisher slice would go on for a minute
        worker = start_worker()
        jobs.start_run(pipeline.incoming)
        wait_for(lambda: destination.request_count >= 3, timeout=90, message="publication under way")

        worker.proc.send_signal(signal.SIGTERM)
        sent_before = destination.request_count
        code = worker.proc.wait(120)

        assert code == 0, worker.output()[-3000:]
        # The publication in hand is finished (and maybe one begun before the signal was handled), not the
        # minute-long slice (~60 at this pace) that a warm shutdown used to wait for.
        assert destination.request_count - sent_before <= 5
        assert count(pipeline.route, Task.Status.PROCESSING) == 0
        assert count(pipeline.route, Task.Status.NEW) > 100  # handed back, not held

        destination.delay = 0
        second = start_worker()  # the publisher message re-sent at shutdown continues the route
        try:
            wait_for(lambda: count(pipeline.route, Task.Status.FINISHED) == 200, timeout=120,
                     message="every task published after the restart")
        except BaseException:
            print(worker.output()[-5000:], second.output()[-5000:],
                  list(Task.objects.values_list("status").annotate(n=Count("id"))))
            raise
        assert Task.objects.filter(route=pipeline.route).count() == 200


def test_a_run_killed_mid_way_is_resumed_by_the_next_worker(start_worker, transactional_db):
    with FakePicqer(records=1000) as source, FakePipedrive() as destination:
        pipeline = build_pipeline(source, destination, realtime=False)
        source.delay = 0.5  # eleven pages, half a second each
        worker = start_worker()
        run = jobs.start_run(pipeline.incoming)
        wait_for(lambda: Run.objects.get(pk=run.pk).pages >= 2, timeout=90, message="page 2 of the run")

        worker.kill()  # SIGKILL, main process and pool child

        run.refresh_from_db()
        assert run.status == Run.Status.RUNNING and run.pages < 11
        source.delay = 0
        start_worker()  # finds the run's process gone and starts it again

        run = wait_for(lambda: Run.objects.filter(pk=run.pk, status=Run.Status.FINISHED).first(), timeout=120,
                       message="the resumed run to finish")
        assert run.resumes == 1 and run.entities == 1000
        assert Task.objects.filter(route=pipeline.route).count() == 1000  # no task created twice

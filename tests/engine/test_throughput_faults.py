"""A real worker SIGKILLed mid-publication, with request logs written in batches and connections kept:
no task is lost or duplicated, and every task ends with exactly one request log of its successful call
(the logs of publications not yet saved go with the worker; those tasks are published and logged again)."""
import pytest
from django.db.models import Count

from clients.models import RequestLog
from connections import tasks as jobs
from connections.models import Task
from tests.fakes.platforms import FakePicqer, FakePipedrive
from tests.support.worker import wait_for

from .conftest import build_pipeline

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def test_a_worker_killed_mid_publication_loses_no_task_and_logs_each_task_once(start_worker, transactional_db):
    with FakePicqer(records=300) as source, FakePipedrive() as destination:
        pipeline = build_pipeline(source, destination)  # request logging on
        destination.delay = 0.03  # ~10 s of publication: the kill lands in the middle of it
        worker = start_worker()
        jobs.start_run(pipeline.incoming)
        wait_for(lambda: destination.request_count >= 45, timeout=120, message="publication under way")

        worker.kill()  # SIGKILL, main process and pool child: unsaved outcomes and their logs are gone

        route = pipeline.route
        held = set(Task.objects.filter(route=route, status=Task.Status.PROCESSING).values_list("claimed_by", flat=True))
        assert held  # the dead process's claims
        sent_before_restart = destination.request_count
        destination.delay = 0
        start_worker()  # hands the dead process's claimed tasks back to New as it starts
        wait_for(lambda: not Task.objects.filter(route=route, status=Task.Status.PROCESSING,
                                                 claimed_by__in=held).exists(),
                 timeout=120, message="the dead process's tasks handed back")
        jobs.start_processing(route.pk)
        try:
            wait_for(lambda: Task.objects.filter(route=route, status=Task.Status.FINISHED).count() == 300,
                     timeout=180, message="every task published after the restart")
        except BaseException:
            print(list(Task.objects.values_list("status").annotate(n=Count("id"))))
            raise

        assert Task.objects.filter(route=route).count() == 300  # no task created twice
        # none lost (a request cut short by the kill reached the fake as a truncated body, not a record)
        published = {r.body["name"] for r in destination.published if isinstance(r.body, dict)}
        assert {f"Record {i}" for i in range(1, 301)} == published
        # Exactly one log per task, of its 2xx call: a publication whose outcome died with the worker
        # took its log along, and was published and logged again.
        logs = RequestLog.objects.filter(client=pipeline.outgoing.client)
        per_task = dict(logs.values_list("task_id").annotate(n=Count("id")))
        assert set(per_task) == set(Task.objects.filter(route=route).values_list("pk", flat=True))
        assert set(per_task.values()) == {1}, sorted(n for n in per_task.values() if n > 1)
        assert not logs.exclude(status=201).exclude(status=200).exists()
        assert sent_before_restart < 300  # the kill did land mid-publication

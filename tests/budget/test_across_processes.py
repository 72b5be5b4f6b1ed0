"""Several real worker processes publish through one HTTP Client against a platform enforcing a limit.

Two `celery worker` processes with two pool processes each (four publishers) share one budget:
in the database with the embedded broker, in Redis with Redis. The fake destination counts what
arrives on its own clock and answers 429 beyond 60 requests in any 10 seconds. Asserted: no 429
at all, never more than the limit in a window, every task published once, by several processes.
No assertion on speed: a slow machine only makes the run longer.
"""
import pytest

from connections import tasks as jobs
from connections.models import Task
from tests.engine.conftest import build_pipeline
from tests.fakes.limited import LimitedPipedrive
from tests.fakes.platforms import FakePicqer
from tests.support.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.rate_budget]

RECORDS = 200
LIMIT, WINDOW = 60, 10.0  # the platform's: 360 a minute, sliding window
WORKER_ENV = {
    "HTTP_RATE_BUDGET": "1",
    # Room for a loaded machine: a process woken late for its slot sends late, next to an on-time one.
    "HTTP_RATE_BUDGET_HEADROOM": "0.2",
    "PUBLISH_FANOUT": "4",
}


def test_worker_processes_share_one_budget_and_never_provoke_a_429(start_worker, broker):
    with FakePicqer(records=RECORDS) as source, \
            LimitedPipedrive(limit=LIMIT, window=WINDOW, keep_requests=False) as destination:
        pipeline = build_pipeline(source, destination, log_requests=False)
        client = pipeline.outgoing.client
        client.rate_limit_per_minute = int(LIMIT * 60 / WINDOW)  # the platform's limit, set on the client
        client.save()
        for _ in range(2):
            start_worker(concurrency=2, extra_env=WORKER_ENV)
        jobs.start_run(pipeline.incoming)
        wait_for(lambda: Task.objects.filter(route=pipeline.route, status=Task.Status.FINISHED).count() == RECORDS,
                 timeout=600, interval=0.5, message=f"{RECORDS} tasks finished")

        assert destination.limiter.refused == 0  # not one 429
        assert destination.limiter.max_in_window() <= LIMIT
        assert len(destination.published) == RECORDS
        assert len({r.body["email"] for r in destination.published}) == RECORDS  # each once
        publishers = set(Task.objects.filter(route=pipeline.route).values_list("claimed_by", flat=True))
        assert len(publishers) >= 2, publishers  # several processes drew from the one budget

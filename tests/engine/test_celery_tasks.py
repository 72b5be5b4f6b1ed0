"""The Celery tasks' follow-ups, called in-process (what they enqueue is captured, not sent)."""
import pytest

from connections import engine
from connections import tasks as jobs
from connections.models import Task


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr(jobs.process_route, "delay", lambda *args: calls.append(("delay", args, None)))
    monkeypatch.setattr(jobs.process_route, "apply_async",
                        lambda args, countdown=None: calls.append(("later", tuple(args), countdown)))
    return calls


def test_a_rate_limited_route_comes_back_at_the_reset_not_at_once(pipeline, enqueued):
    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    pipeline.destination.fail_next(429, retry_after=5)

    jobs.process_route(pipeline.route.pk)

    assert [c[0] for c in enqueued] == ["later"]
    _, args, countdown = enqueued[0]
    assert args == (pipeline.route.pk, False) and 4 <= countdown <= 5.5
    # the first task waits for the reset; the rest of its batch was handed back, not hammered
    assert Task.objects.filter(status=Task.Status.WAITING).count() == engine.CLAIM_BATCH
    assert len(pipeline.destination.received) == 1


def test_retries_are_picked_up_when_due(pipeline, enqueued):
    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    Task.objects.exclude(data__id=1).update(status=Task.Status.SKIPPED)
    pipeline.destination.fail_next(502)

    jobs.process_route(pipeline.route.pk)

    task = Task.objects.get(data__id=1)
    assert task.status == Task.Status.WAITING
    assert enqueued and enqueued[-1][0] == "later" and enqueued[-1][1] == (pipeline.route.pk, True)


def test_periodic_job_processes_realtime_routes_and_only_retries_of_scheduled_ones(db, source, destination,
                                                                                    enqueued):
    from .conftest import build_pipeline

    realtime = build_pipeline(source, destination, name="rt")
    scheduled = build_pipeline(source, destination, name="sch", realtime=False)
    for p in (realtime, scheduled):
        engine.execute_run(engine.start_run(p.incoming).pk)

    jobs.process_due_tasks()
    assert [c[1] for c in enqueued] == [(realtime.route.pk,)]  # scheduled New tasks wait for their scheduler

    enqueued.clear()
    Task.objects.filter(route=scheduled.route, data__id=3).update(status=Task.Status.WAITING)
    jobs.process_due_tasks()
    assert sorted(c[1] for c in enqueued) == [(realtime.route.pk,), (scheduled.route.pk, True)]


def test_process_now_lets_several_worker_processes_share_the_backlog(signed_in, pipeline, monkeypatch, settings):
    """One message would keep one process on the route however many are idle: PUBLISH_FANOUT are sent."""
    from django.urls import reverse

    settings.PUBLISH_FANOUT = 3
    sent = []
    monkeypatch.setattr(jobs.process_route, "delay_on_commit", lambda *args: sent.append(args))
    signed_in.post(reverse("connections:route_process", args=[pipeline.route.pk]))
    assert sent == [(pipeline.route.pk,)] * 3


def test_processes_sharing_a_route_publish_each_task_once(pipeline):
    """What the fan-out relies on: interleaved claims by several publishers never overlap."""

    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    first, second = engine.claim_tasks(pipeline.route.pk, limit=120), engine.claim_tasks(pipeline.route.pk, limit=120)
    assert len(first) == 120 and len(second) == 120 and not set(first) & set(second)
    engine.process_tasks(pipeline.route.pk)
    assert len(pipeline.destination.published) == 60  # the unclaimed rest, each once

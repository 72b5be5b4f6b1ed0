"""Waits and backoffs stay within bounds: a huge Retry-After or a stored huge backoff never overflows,
and a run the repair job already ended keeps its verdict."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connections import engine
from connections.models import Route, Run, Task


def only_first_task(pipeline) -> Task:
    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    Task.objects.exclude(data__id=1).update(status=Task.Status.SKIPPED)
    return Task.objects.get(route=pipeline.route, data__id=1)


@pytest.mark.parametrize("retry_after, asked", [("inf", "an endless wait"), ("1e400", "an endless wait"),
                                                ("999999", "999999 s")])
def test_a_huge_retry_after_parks_the_task_for_the_maximum_and_says_so(pipeline, settings, retry_after, asked):
    settings.HTTP_MAX_RETRY_AFTER = 600
    task = only_first_task(pipeline)
    pipeline.destination.fail_next(429, retry_after=retry_after)

    engine.process_tasks(pipeline.route.pk)

    task.refresh_from_db()
    assert task.status == Task.Status.WAITING and task.attempts == 0
    assert 590 <= (task.next_attempt_at - timezone.now()).total_seconds() <= 600
    assert f"it asked for {asked}, waits are capped at 600 s (HTTP_MAX_RETRY_AFTER)" in task.last_error


def test_a_stored_huge_backoff_waits_the_longest_retry_delay_instead_of_overflowing(pipeline):
    # Saved before the form checked bounds (or through the admin): 2**40 s, attempt 30.
    Route.objects.filter(pk=pipeline.route.pk).update(backoff_seconds=2**31 - 1, max_attempts=100)
    task = only_first_task(pipeline)
    Task.objects.filter(pk=task.pk).update(attempts=30)
    pipeline.destination.fail_next(500)

    engine.process_tasks(pipeline.route.pk)

    task.refresh_from_db()
    assert task.status == Task.Status.WAITING and task.attempts == 31
    delay = task.next_attempt_at - timezone.now()
    assert timedelta(days=6) < delay <= engine.MAX_RETRY_DELAY


def test_a_run_marked_failed_meanwhile_stays_failed(pipeline):
    run = engine.start_run(pipeline.incoming)

    def repair_job_gives_up(current):
        # What repair() does to a run it believes dead, while the worker is in fact still paging.
        Run.objects.filter(pk=current.pk).update(status=Run.Status.FAILED, error="The worker running it stopped.")

    engine.execute_run(run.pk, progress=repair_job_gives_up)

    run.refresh_from_db()
    assert run.status == Run.Status.FAILED and run.error == "The worker running it stopped."


@pytest.mark.parametrize("field, value, message", [
    ("backoff_seconds", 2**40, "less than or equal to 86400"),
    ("backoff_seconds", -1, "greater than or equal to 0"),
    ("max_attempts", 10**6, "less than or equal to 100"),
])
def test_route_form_refuses_backoffs_and_attempts_out_of_bounds(signed_in, pipeline, field, value, message):
    data = {"name": "Bounded", "incoming": pipeline.incoming.pk, "outgoing": pipeline.outgoing.pk,
            "processing": "realtime", "retry_on_failure": "on", "max_attempts": 3, "backoff_seconds": 10,
            field: value}

    response = signed_in.post(reverse("connections:route_create"), data)

    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert not Route.objects.filter(name="Bounded").exists()


def test_a_run_stopped_by_its_time_limit_says_so(pipeline, settings):
    from celery.exceptions import SoftTimeLimitExceeded

    def time_is_up(run):
        raise SoftTimeLimitExceeded()  # what Celery raises inside the task at RUN_TIME_LIMIT

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk, progress=time_is_up)

    assert run.status == Run.Status.FAILED
    assert f"Stopped after {settings.RUN_TIME_LIMIT} s, the longest a run may take (RUN_TIME_LIMIT)" in run.error
    assert Task.objects.filter(run=run).count() == 100  # the first page kept its tasks

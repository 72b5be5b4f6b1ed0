"""The kept task counts equal a fresh COUNT after every kind of status change."""
from datetime import timedelta

from django.utils import timezone

from connections import engine
from connections.models import Route, Run, Task
from summaries import counts as summaries
from summaries import maintenance
from summaries.models import TaskCount

from .conftest import fresh_counts, kept_counts


def test_counts_follow_runs_publishing_retries_skips_repairs_prunes_and_deletes(pipeline):
    def check(step: str) -> None:
        assert kept_counts() == fresh_counts(), step
        assert kept_counts(fold=True) == fresh_counts(), f"{step}, after folding"

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)
    assert run.status == Run.Status.FINISHED and run.tasks_created == 120
    check("after the run")

    pipeline.destination.fail_next(500, times=3)  # -> Waiting (retry later)
    pipeline.destination.fail_next(422, times=2)  # -> Failed
    engine.process_tasks(pipeline.route.pk, max_tasks=60)
    statuses = set(Task.objects.values_list("status", flat=True))
    assert {"waiting", "failed", "finished", "new"} <= statuses
    check("after publishing half with failures")

    failed = list(Task.objects.filter(status=Task.Status.FAILED).values_list("pk", flat=True))
    assert engine.retry_tasks(failed) == 2
    check("after retrying")

    new = list(Task.objects.filter(status=Task.Status.NEW).values_list("pk", flat=True)[:10])
    assert engine.skip_tasks(new) == 10
    check("after skipping")

    # A worker killed mid-publication leaves claimed tasks in Processing; repair hands them back.
    claimed = engine.claim_tasks(pipeline.route.pk, limit=7)
    assert len(claimed) == 7
    check("after claiming")
    later = timezone.now() + timedelta(hours=1)
    assert engine.repair(now=later)["tasks_released"] == 7
    check("after repairing")

    engine.process_tasks(pipeline.route.pk)
    check("after publishing the rest")

    Task.objects.filter(status__in=(Task.Status.FINISHED, Task.Status.SKIPPED)).update(
        updated_at=timezone.now() - timedelta(days=400))
    assert engine.prune()["tasks"] > 0
    check("after pruning")

    route_id = pipeline.route.pk
    Route.objects.filter(pk=route_id).delete()
    check("after deleting the route")
    assert route_id not in summaries.task_counts()


def test_a_run_repeated_after_a_crash_counts_no_task_twice(pipeline):
    """A redelivered run inserts the same tasks again; the duplicates are ignored and not counted."""
    first = engine.execute_run(engine.start_run(pipeline.incoming).pk)
    Run.objects.filter(pk=first.pk).update(status=Run.Status.RUNNING)  # as if its worker died
    engine.execute_run(first.pk)
    assert Task.objects.count() == 120
    assert kept_counts() == fresh_counts() == {(pipeline.route.pk, "new"): 120}


def test_reconciliation_corrects_counts_changed_behind_the_triggers(pipeline):
    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    maintenance.fold()
    TaskCount.objects.filter(route_id=pipeline.route.pk, status="new").update(count=5)
    TaskCount.objects.create(route_id=pipeline.route.pk, status="failed", count=3)
    TaskCount.objects.create(route_id=987654, status="new", count=9)  # a route that is gone
    assert kept_counts() != fresh_counts()

    assert maintenance.reconcile() == {"corrected": 2}
    assert kept_counts(fold=True) == fresh_counts()
    assert not TaskCount.objects.filter(route_id=987654).exists()
    assert maintenance.reconcile() == {"corrected": 0}


def test_status_totals_add_up_every_route(pipeline, source, destination):
    from tests.engine.conftest import build_pipeline

    other = build_pipeline(source, destination, name="second")
    for incoming in (pipeline.incoming, other.incoming):
        engine.execute_run(engine.start_run(incoming).pk)
    assert other.route.tasks.count() == 120
    engine.process_tasks(other.route.pk, max_tasks=20)
    assert summaries.status_totals() == {"new": 220, "finished": 20}


def test_a_run_counts_its_new_tasks_without_recounting_the_run_every_page(pipeline):
    """Counting every task of the run after each page grew with the run (37 -> 79 ms a page at 200k)."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        run = engine.execute_run(engine.start_run(pipeline.incoming).pk)
    assert (run.pages, run.tasks_created) == (2, 120)
    whole_run = [q["sql"] for q in queries.captured_queries
                 if "COUNT(" in q["sql"] and re.search(r'WHERE "connections_task"."run_id" = \d+$', q["sql"])]
    assert len(whole_run) <= 2, whole_run  # once at the start, once at the end

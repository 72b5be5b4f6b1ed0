"""End to end with a real worker: Picqer customers kept in sync with Pipedrive organizations.

Run 1 creates one organization per customer; after 3 changes and 2 new customers, run 2 asks Picqer
only for what changed since run 1 and makes 3 updates to the same organizations and 2 creates; run 3
sends nothing. Then a worker is SIGKILLed after Pipedrive created an organization and before the
answer was saved: the retry finds it by a lookup and updates it, so no second organization appears.
"""
from datetime import timedelta

import pytest
from django.utils import timezone

from connections import engine
from connections import tasks as jobs
from connections.models import Run, Task
from storages.models import StorageEntry
from tests.support.worker import wait_for

from .conftest import build_sync

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def finished_tasks(sync) -> int:
    return Task.objects.filter(route=sync.route, status=Task.Status.FINISHED).count()


def run_to_the_end(sync) -> Run:
    run = jobs.start_run(sync.incoming)
    wait_for(lambda: Run.objects.filter(pk=run.pk, status__in=("finished", "failed")).exists(), timeout=120,
             message=f"run {run.pk} to end")
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED, run.error
    return run


def one_organization_per_customer(sync) -> bool:
    names = sorted(org["name"] for org in sync.destination.organizations.values())
    return names == sorted(c["name"] for c in sync.source.customers.values())


def test_create_update_incremental_and_a_killed_create(start_worker, transactional_db, source, destination):
    sync = build_sync(source, destination, incremental=True, lookup=True)
    worker = start_worker()

    run_to_the_end(sync)
    wait_for(lambda: finished_tasks(sync) == 10, timeout=120, message="10 organizations created")
    assert destination.creates == 10 and destination.updates == 0
    ids = {e.key: e.value["id"] for e in StorageEntry.objects.filter(storage=sync.storage)}
    assert "updated_after" not in source.list_reads()[0].query

    source.change([2, 5, 7])
    source.add(2)
    reads, writes = len(source.list_reads()), len(destination.writes())
    run_to_the_end(sync)
    wait_for(lambda: finished_tasks(sync) == 15, timeout=120, message="3 updates and 2 creates")
    asked = source.list_reads()[reads].query
    assert "updated_after" in asked  # only what changed since run 1 (checked at the fake)
    new_writes = destination.writes()[writes:]
    assert sorted(f"{r.method} {r.path}" for r in new_writes) == sorted(
        ["POST /api/v1/organizations"] * 2 + [f"PUT /api/v1/organizations/{ids[k]}" for k in ("2", "5", "7")])
    assert destination.creates == 12 and one_organization_per_customer(sync)

    received = len(destination.received)
    run_to_the_end(sync)
    assert len(destination.received) == received  # nothing changed: no request to Pipedrive

    # A create reaches Pipedrive, and the worker dies before the answer is saved.
    source.add(1)
    destination.hold_creates.set()
    jobs.start_run(sync.incoming)
    assert destination.created_while_held.wait(120), "the create never reached the fake"
    worker.kill()
    destination.release.set()
    destination.hold_creates.clear()
    task = Task.objects.get(route=sync.route, data__idcustomer=13)
    assert task.status == Task.Status.PROCESSING
    # The stuck-task repair hands it back (as it would after STUCK_TASK_TIMEOUT_MINUTES).
    engine.repair(now=timezone.now() + timedelta(hours=1))
    start_worker()
    jobs.process_route.delay(sync.route.pk)

    wait_for(lambda: Task.objects.filter(pk=task.pk, status__in=("finished", "failed")).exists(), timeout=120,
             message="the repaired task published")
    task.refresh_from_db()
    assert task.status == Task.Status.FINISHED, task.last_error
    assert destination.creates == 13 and one_organization_per_customer(sync)  # no second organization
    assert StorageEntry.objects.get(storage=sync.storage, key="13").value["how"] == "found by the lookup"

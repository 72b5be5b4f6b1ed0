"""Create or update with ID mapping, in-process (engine functions, real sockets to the fakes)."""
from datetime import UTC, timedelta

from connections import engine
from connections.models import Run, Task
from storages import store
from storages.models import StorageEntry

from .conftest import build_sync


def run_and_publish(sync):
    run = engine.execute_run(engine.start_run(sync.incoming).pk)
    assert run.status == Run.Status.FINISHED, run.error
    engine.process_tasks(sync.route.pk)
    return run


def mapped_ids(sync) -> dict[str, int]:
    return {e.key: e.value["id"] for e in StorageEntry.objects.filter(storage=sync.storage)}


def test_creates_then_updates_the_same_records_then_sends_nothing(db, source, destination):
    sync = build_sync(source, destination, incremental=False)

    run_and_publish(sync)
    assert destination.creates == 10 and destination.updates == 0
    first = mapped_ids(sync)
    assert sorted(first, key=int) == [str(i) for i in range(1, 11)]
    assert {destination.organizations[oid]["name"] for oid in first.values()} == {f"Customer {i}" for i in
                                                                                   range(1, 11)}

    source.change([2, 5, 7])
    source.add(2)
    before = len(destination.writes())
    run_and_publish(sync)
    writes = destination.writes()[before:]
    assert sorted(r.method for r in writes) == ["POST", "POST", "PUT", "PUT", "PUT"]
    assert sorted(r.path for r in writes if r.method == "PUT") == sorted(
        f"/api/v1/organizations/{first[k]}" for k in ("2", "5", "7"))
    assert destination.organizations[first["5"]]["name"] == "Customer 5 (renamed)"
    assert len(destination.organizations) == 12 == len(mapped_ids(sync))

    before = len(destination.received)
    run_and_publish(sync)
    assert destination.received[before:] == []  # nothing changed: no request to the destination
    assert Task.objects.filter(route=sync.route, status=Task.Status.FINISHED).count() == 15


def test_incremental_run_asks_only_for_records_changed_since_the_last_run(db, source, destination):
    sync = build_sync(source, destination, incremental=True)
    run_and_publish(sync)
    assert "updated_after" not in source.list_reads()[0].query  # no watermark yet: everything

    source.change([3])
    source.add(1)
    reads = len(source.list_reads())
    sync.watermark.refresh_from_db()
    since = sync.watermark.value - timedelta(seconds=sync.watermark.overlap_seconds)
    run = run_and_publish(sync)
    query = source.list_reads()[reads].query
    assert query["updated_after"] == since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert run.entities == 2  # the changed customer and the new one, not all eleven
    assert destination.creates == 11 and destination.updates == 1


def test_a_create_with_no_saved_answer_is_found_by_the_lookup_not_sent_again(db, source, destination):
    sync = build_sync(source, destination, incremental=False, lookup=True)
    source.customers = {1: source.customers[1]}
    # A worker created organization 1 for customer 1 and died before saving the answer.
    destination.organizations[1] = {"name": "Customer 1"}
    store.save(sync.storage, "1", {"creating": True, "task": 99, "at": "2026-01-01T00:00:00+00:00"})

    run_and_publish(sync)

    assert len(destination.organizations) == 1 and destination.creates == 0 and destination.updates == 1
    assert mapped_ids(sync) == {"1": 1}


def test_without_a_lookup_such_a_task_is_marked_for_review_and_nothing_is_sent(db, source, destination):
    sync = build_sync(source, destination, incremental=False, lookup=False)
    source.customers = {1: source.customers[1]}
    destination.organizations[1] = {"name": "Customer 1"}
    store.save(sync.storage, "1", {"creating": True, "task": 99, "at": "2026-01-01T00:00:00+00:00"})

    run_and_publish(sync)

    task = Task.objects.get(route=sync.route)
    assert task.status == Task.Status.FAILED and task.last_error.startswith("Needs review:")
    assert "task 99" in task.last_error
    assert destination.writes() == []


def test_a_refused_create_leaves_no_marker_so_the_retry_creates(db, source, destination):
    sync = build_sync(source, destination, incremental=False)
    source.customers = {1: source.customers[1]}
    destination.fail_next(400, body={"success": False, "error": "name is required"})
    run_and_publish(sync)
    task = Task.objects.get(route=sync.route)
    assert task.status == Task.Status.FAILED and not StorageEntry.objects.filter(storage=sync.storage).exists()

    engine.retry_tasks([task.pk])
    engine.process_tasks(sync.route.pk)
    task.refresh_from_db()
    assert task.status == Task.Status.FINISHED and destination.creates == 1
    assert mapped_ids(sync) == {"1": 1}


def test_a_failed_run_does_not_move_the_watermark(db, source, destination):
    sync = build_sync(source, destination, incremental=True)
    run_and_publish(sync)
    sync.watermark.refresh_from_db()
    mark = sync.watermark.value
    source.fail_next(400, body={"error": True, "error_message": "bad filter"})

    run = engine.execute_run(engine.start_run(sync.incoming).pk)

    assert run.status == Run.Status.FAILED
    sync.watermark.refresh_from_db()
    assert sync.watermark.value == mark


def test_a_field_watermark_takes_the_largest_date_read_in_the_platforms_time_zone(db, source, destination):
    from sync.models import Watermark

    sync = build_sync(source, destination, incremental=True)
    Watermark.objects.filter(pk=sync.watermark.pk).update(source="field", field="updated",
                                                          time_zone="Europe/Amsterdam", overlap_seconds=0)
    source.customers[4]["updated"] = "2026-03-01 10:00:00"  # Amsterdam (CET): 09:00 UTC
    run_and_publish(sync)
    sync.watermark.refresh_from_db()
    assert sync.watermark.value.isoformat() == "2026-03-01T09:00:00+00:00"

    reads = len(source.list_reads())
    run_and_publish(sync)
    assert source.list_reads()[reads].query["updated_after"] == "2026-03-01 10:00:00"  # rendered back in Amsterdam


def test_outgoing_storage_writes_are_saved_only_when_the_task_finishes(db, source, destination):
    from connections.models import OutgoingTransformer, Transformer
    from storages.models import Storage

    sync = build_sync(source, destination, incremental=False)
    sync.plan.enabled = False
    sync.plan.save()
    sync.route.retry_on_failure = False
    sync.route.save()
    Storage.objects.create(name="Sent", identifier="sent")
    only_new = Transformer.objects.create(name="Only new", identifier="only-new", steps=[
        {"kind": "filter_previously_stored", "settings": {"storage": "sent", "key": "&{idcustomer}",
                                                          "path": "payload"}}])
    OutgoingTransformer.objects.create(outgoing=sync.outgoing, transformer=only_new)
    source.customers = {1: source.customers[1]}
    destination.fail_next(500)

    run_and_publish(sync)
    task = Task.objects.get()
    assert task.status == Task.Status.FAILED
    assert not StorageEntry.objects.filter(storage__identifier="sent").exists()  # not sent: not stored

    engine.retry_tasks([task.pk])
    engine.process_tasks(sync.route.pk)
    task.refresh_from_db()
    assert task.status == Task.Status.FINISHED and destination.creates == 1
    assert StorageEntry.objects.get(storage__identifier="sent").key == "1"

"""Export and import carry storages (definitions, optionally entries), watermarks and create-or-update."""
import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from connections import portable
from connections.models import Incoming, Outgoing
from storages import store
from storages.models import Storage, StorageEntry
from sync.models import CreateOrUpdate, Watermark

from .conftest import build_sync


def test_round_trip_of_sync_settings_and_the_mapping_storage(db, source, destination):
    sync = build_sync(source, destination, lookup=True)
    Watermark.objects.filter(pk=sync.watermark.pk).update(value=timezone.now(), overlap_seconds=120)
    store.save(sync.storage, "1", {"id": 9})
    document = portable.export_document(incoming=[sync.incoming], outgoing=[sync.outgoing])
    text = portable.dumps(document)
    assert "picqer-key" not in text and "pd-token" not in text  # clients by identifier only
    assert document["storages"] == [{"identifier": "customers-in-pipedrive", "name": "Customers in Pipedrive",
                                     "description": "", "time_to_live_days": None, "log_changes": False}]
    assert document["outgoing"][0]["create_or_update"]["lookup_id_path"] == "data.items[0].item.id"
    assert document["incoming"][0]["incremental"]["overlap_seconds"] == 120

    sync.route.delete()
    CreateOrUpdate.objects.all().delete()
    Watermark.objects.all().delete()
    Storage.objects.all().delete()
    dry = portable.import_document(portable.loads(text), dry_run=True)
    assert dry.ok and not dry.applied and not Storage.objects.exists()
    assert {(c.kind, c.action) for c in dry.changes} == {("storage", "create"), ("incoming", "update"),
                                                         ("outgoing", "update")}

    report = portable.import_document(portable.loads(text))
    assert report.applied
    plan = CreateOrUpdate.objects.get(outgoing=Outgoing.objects.get())
    assert plan.storage.identifier == "customers-in-pipedrive" and plan.lookup_query["term"] == "&{payload.name}"
    mark = Watermark.objects.get(incoming=Incoming.objects.get())
    assert mark.overlap_seconds == 120 and mark.value is not None
    assert not StorageEntry.objects.exists()  # definitions only, unless entries were asked for


def test_an_unknown_storage_is_an_error_and_nothing_is_written(db, source, destination):
    sync = build_sync(source, destination)
    document = portable.export_document(outgoing=[sync.outgoing])
    del document["storages"]
    document["outgoing"][0]["create_or_update"]["storage"] = "missing"
    document["outgoing"][0]["name"] = "Renamed"
    report = portable.import_document(document)
    assert not report.applied
    assert report.changes[0].errors == ["create_or_update: unknown storage “missing”: add it to the file or create "
                                        "it first"]
    assert Outgoing.objects.get().name == "Pipedrive organizations"


def test_storage_page_exports_entries_and_imports_them_elsewhere(signed_in):
    storage = Storage.objects.create(name="Seen", identifier="seen", time_to_live_days=3)
    store.save_many(storage, [("a", {"n": 1}), ("b", {"n": 2})])
    response = signed_in.get(reverse("storages:export"), {"id": storage.pk, "entries": "1"})
    document = json.loads(response.content)
    assert document["storages"][0]["entries"] == {"a": {"n": 1}, "b": {"n": 2}}

    storage.delete()
    upload = SimpleUploadedFile("storages.json", response.content, content_type="application/json")
    result = signed_in.post(reverse("storages:import"), {"file": upload})
    assert result.status_code == 200 and "Imported" in result.content.decode()
    copied = Storage.objects.get(identifier="seen")
    assert copied.time_to_live_days == 3 and store.get(copied, "b") == {"n": 2}

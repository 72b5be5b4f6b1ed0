"""Connections -> Storages pages: create, browse and search entries, view one as JSON, delete."""
from django.urls import reverse

from storages import store
from storages.models import Storage, StorageChange, StorageEntry


def test_create_a_storage_with_an_identifier_made_from_its_name(signed_in):
    response = signed_in.post(reverse("storages:new"), {"name": "Picqer customers", "time_to_live_days": "30"})
    storage = Storage.objects.get()
    assert response.status_code == 302 and response.url == storage.get_absolute_url()
    assert storage.identifier == "picqer-customers" and storage.time_to_live_days == 30
    page = signed_in.get(reverse("storages:list")).content.decode()
    assert "Picqer customers" in page and "30 days" in page


def test_bad_input_says_what_to_fix_and_saves_nothing(signed_in):
    Storage.objects.create(name="A", identifier="taken")
    response = signed_in.post(reverse("storages:new"), {"name": "B", "identifier": "taken"})
    assert response.status_code == 200 and "Not saved." in response.content.decode()
    assert Storage.objects.count() == 1


def test_browse_search_view_and_delete_entries(signed_in):
    storage = Storage.objects.create(name="Customers", identifier="customers", log_changes=True)
    store.save_many(storage, [(f"{i:03d}", {"idcustomer": i, "name": f"<b>Customer {i}</b>"}) for i in range(1, 121)])

    page = signed_in.get(storage.get_absolute_url()).content.decode()
    assert "(120)" in page and "001" in page and "050" in page and "051" not in page  # 50 a page, by key
    following = signed_in.get(storage.get_absolute_url(), {"after": "050"}).content.decode()
    assert "051" in following and "050</code>" not in following

    found = signed_in.get(storage.get_absolute_url(), {"q": "11"}).content.decode()
    assert "110" in found and "119" in found and "012" not in found

    entry = StorageEntry.objects.get(storage=storage, key="007")
    shown = signed_in.get(reverse("storages:entry", args=[storage.pk, entry.pk])).content.decode()
    assert "&quot;idcustomer&quot;: 7" in shown and "&lt;b&gt;Customer 7" in shown  # JSON, escaped

    signed_in.post(reverse("storages:entry_delete", args=[storage.pk, entry.pk]))
    assert not StorageEntry.objects.filter(key="007").exists()
    assert StorageChange.objects.filter(key="007", action="deleted").exists()


def test_prune_deletes_entries_past_the_time_to_live(db):
    from datetime import timedelta

    from django.utils import timezone

    storage = Storage.objects.create(name="Short", identifier="short", time_to_live_days=7)
    keep = Storage.objects.create(name="Forever", identifier="forever")
    store.save_many(storage, [("old", 1), ("new", 2)])
    store.save(keep, "old", 1)
    StorageEntry.objects.filter(key="old").update(updated_at=timezone.now() - timedelta(days=8))

    assert store.prune() == {"short": 1}
    assert sorted(StorageEntry.objects.values_list("storage__identifier", "key")) == [("forever", "old"),
                                                                                      ("short", "new")]


def test_the_step_editor_offers_existing_storages(signed_in):
    Storage.objects.create(name="Picqer customers", identifier="picqer-customers")
    page = signed_in.get(reverse("connections:transformer_new")).content.decode()
    assert '<datalist id="suggest-storages"><option value="picqer-customers">Picqer customers</option>' in page

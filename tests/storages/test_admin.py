"""The Django admin finds storage entries by key prefix and never offers to add one by hand."""
from django.urls import reverse

from storages import store
from storages.models import Storage


def test_admin_searches_entries_by_key_prefix(admin_client):
    storage = Storage.objects.create(name="Ids", identifier="ids")
    store.save_many(storage, [("c-101", {"id": 1}), ("c-102", {"id": 2}), ("x-101", {"id": 3})])
    page = admin_client.get(reverse("admin:storages_storageentry_changelist"), {"q": "c-10"}).content.decode()
    assert "c-101" in page and "c-102" in page and "x-101" not in page
    assert admin_client.get(reverse("admin:storages_storageentry_add")).status_code == 403

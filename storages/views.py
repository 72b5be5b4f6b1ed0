"""Connections -> Storages: list, create and edit, browse entries (search by key), view and delete entries."""
from __future__ import annotations

import json

from django.contrib import messages
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import store
from .forms import StorageForm
from .models import Storage, StorageChange, StorageEntry

PAGE_SIZE = 50

app_name = "storages"


@require_GET
def storage_list(request: HttpRequest) -> HttpResponse:
    return render(request, "storages/storage_list.html", {"title": "Storages", "storages": Storage.objects.all()})


@require_http_methods(["GET", "POST"])
def storage_new(request: HttpRequest) -> HttpResponse:
    return _storage_form(request, Storage())


@require_http_methods(["GET", "POST"])
def storage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _storage_form(request, get_object_or_404(Storage, pk=pk))


def _storage_form(request: HttpRequest, storage: Storage) -> HttpResponse:
    form = StorageForm(request.POST or None, instance=storage)
    if request.method == "POST" and form.is_valid():
        storage = form.save()
        messages.success(request, f"Storage “{storage.name}” saved.")
        return redirect(storage)
    creating = storage.pk is None
    return render(request, "storages/storage_form.html", {
        "title": "New storage" if creating else f"Edit {storage.name}", "form": form, "storage": storage,
        "creating": creating})


@require_GET
def storage_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The entries, ordered by key; ?q= finds keys starting with it; ?after= pages on by key (no OFFSET)."""
    storage = get_object_or_404(Storage, pk=pk)
    query = request.GET.get("q", "").strip()
    after = request.GET.get("after", "")
    entries = StorageEntry.objects.filter(storage=storage).only("key", "updated_at", "digest").order_by("key")
    if query:
        entries = entries.filter(key__startswith=query)
    if after:
        entries = entries.filter(key__gt=after)
    page = list(entries[:PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    return render(request, "storages/storage_detail.html", {
        "title": storage.name, "storage": storage, "entries": page, "query": query,
        "next_after": page[-1].key if more else "", "after": after,
        "total": StorageEntry.objects.filter(storage=storage).count() if not query else None,
        "changes": StorageChange.objects.filter(storage=storage)[:20] if storage.log_changes else None,
    })


@require_GET
def entry_detail(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    entry = get_object_or_404(StorageEntry.objects.select_related("storage"), pk=entry_pk, storage_id=pk)
    return render(request, "storages/entry_detail.html", {
        "title": f"{entry.storage.name}: {entry.key}", "entry": entry, "storage": entry.storage,
        "value_json": json.dumps(entry.value, indent=2, ensure_ascii=False)})


@require_POST
def entry_delete(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    entry = get_object_or_404(StorageEntry.objects.select_related("storage"), pk=entry_pk, storage_id=pk)
    store.delete(entry.storage, [entry.key], source=f"user {request.user.get_username()}")
    messages.success(request, f"Entry “{entry.key}” deleted.")
    return redirect(entry.storage)


@require_POST
def storage_delete(request: HttpRequest, pk: int) -> HttpResponse:
    storage = get_object_or_404(Storage, pk=pk)
    try:
        storage.delete()
    except ProtectedError:
        messages.error(request, f"“{storage.name}” is the ID mapping of an outgoing configuration's create or "
                                "update; choose another storage there first.")
        return redirect(storage)
    messages.success(request, f"Storage “{storage.name}” and its entries deleted.")
    return redirect("storages:list")


@require_GET
def storage_export(request: HttpRequest) -> HttpResponse:
    """Storage definitions as an export file (?id= for some; &entries=1 with their entries)."""
    from django.utils import timezone

    from connections import portable

    ids = [i for i in request.GET.getlist("id") if i.isdigit()]
    storages = Storage.objects.order_by("identifier")
    if ids:
        storages = storages.filter(pk__in=ids)
    entries = request.GET.get("entries") == "1"
    document = portable.export_document(storages=list(storages), entries=entries)
    name = f"storages{'-with-entries' if entries else ''}-{timezone.now():%Y%m%d-%H%M%S}"
    response = HttpResponse(portable.dumps(document), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response


@require_http_methods(["GET", "POST"])
def storage_import(request: HttpRequest) -> HttpResponse:
    from django.urls import reverse

    from connections.views.incoming import import_view

    return import_view(request, "", back_url=reverse("storages:list"))


urlpatterns = [
    path("export/", storage_export, name="export"),
    path("import/", storage_import, name="import"),
    path("", storage_list, name="list"),
    path("new/", storage_new, name="new"),
    path("<int:pk>/", storage_detail, name="detail"),
    path("<int:pk>/edit/", storage_edit, name="edit"),
    path("<int:pk>/delete/", storage_delete, name="delete"),
    path("<int:pk>/entries/<int:entry_pk>/", entry_detail, name="entry"),
    path("<int:pk>/entries/<int:entry_pk>/delete/", entry_delete, name="entry_delete"),
]

"""Storages in export files: definitions (always) and entries (when asked), matched by identifier on import."""
from __future__ import annotations

from typing import Any

from .forms import StorageForm
from .models import Storage, StorageEntry
from .store import save_many

ENTRY_LIMIT = 100_000  # entries per storage in one file; a bigger storage is exported without them


def export_storage(storage: Storage, entries: bool = False) -> dict:
    data: dict[str, Any] = {
        "identifier": storage.identifier,
        "name": storage.name,
        "description": storage.description,
        "time_to_live_days": storage.time_to_live_days,
        "log_changes": storage.log_changes,
    }
    if entries:
        rows = StorageEntry.objects.filter(storage=storage).order_by("key").values_list("key", "value")
        data["entries"] = {key: value for key, value in rows[:ENTRY_LIMIT]}
    return data


def _snapshot(storage: Storage) -> dict:
    return export_storage(storage)


def plan(entry: Any) -> tuple[str, str, list[str], list[str], Any]:
    """(identifier, action, errors, changed fields, apply function) for one storage of a file."""
    if not isinstance(entry, dict):
        return "?", "error", ["each storage must be an object"], [], None
    identifier = str(entry.get("identifier") or "").strip()
    if not identifier:
        return "?", "error", ["“identifier” is missing"], [], None
    existing = Storage.objects.filter(identifier=identifier).first()
    before = _snapshot(existing) if existing else None
    data = {k: entry.get(k) for k in ("identifier", "name", "description", "time_to_live_days")}
    data = {k: "" if v is None else v for k, v in data.items()}
    if entry.get("log_changes"):
        data["log_changes"] = "on"
    form = StorageForm(data=data, instance=existing)
    if not form.is_valid():
        return identifier, "error", [f"{n}: {m}" if n != "__all__" else m for n, ms in form.errors.items()
                                     for m in ms], [], None
    entries = entry.get("entries")
    if entries is not None and not isinstance(entries, dict):
        return identifier, "error", ["“entries” must be an object of key → entity"], [], None
    changed = [k for k in (before or {}) if before[k] != entry.get(k, before[k])]
    action = "create" if existing is None else "update" if changed or entries else "unchanged"

    def apply() -> None:
        storage = form.save()
        if entries:
            save_many(storage, entries.items(), source="import")

    return identifier, action, [], changed + (["entries"] if entries else []), apply

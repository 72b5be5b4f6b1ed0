"""Create-or-update and incremental-fetch settings in export files, beside the configuration they extend."""
from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime

from storages.models import Storage

from .models import CreateOrUpdate, Watermark

PLAN_FIELDS = ("enabled", "update_entity", "id_parameter", "source_key", "data_id_key", "response_id_path",
               "lookup_entity", "lookup_query", "lookup_id_path")
MARK_FIELDS = ("enabled", "source", "field", "overlap_seconds", "time_zone")


def export_plan(outgoing) -> dict | None:
    plan = CreateOrUpdate.objects.filter(outgoing=outgoing).select_related("storage").first()
    if plan is None:
        return None
    return {**{f: getattr(plan, f) for f in PLAN_FIELDS}, "storage": plan.storage.identifier if plan.storage else ""}


def export_watermark(incoming) -> dict | None:
    mark = Watermark.objects.filter(incoming=incoming).first()
    if mark is None:
        return None
    return {**{f: getattr(mark, f) for f in MARK_FIELDS}, "value": mark.value.isoformat() if mark.value else None}


def check(kind: str, entry: dict, storages_in_file: set[str]) -> list[str]:
    """Problems with the sync settings of one configuration of a file."""
    errors = []
    if kind == "outgoing" and entry.get("create_or_update") is not None:
        plan = entry["create_or_update"]
        if not isinstance(plan, dict):
            return ["“create_or_update” must be an object"]
        storage = str(plan.get("storage") or "")
        if plan.get("enabled") and not storage:
            errors.append("create_or_update: “storage” is missing")
        elif storage and storage not in storages_in_file and not Storage.objects.filter(identifier=storage).exists():
            errors.append(f"create_or_update: unknown storage “{storage}”: add it to the file or create it first")
        if not isinstance(plan.get("lookup_query", {}), dict):
            errors.append("create_or_update: “lookup_query” must be an object")
    if kind == "incoming" and entry.get("incremental") is not None:
        mark = entry["incremental"]
        if not isinstance(mark, dict):
            return ["“incremental” must be an object"]
        if mark.get("source", "run_start") not in Watermark.Source.values:
            errors.append(f"incremental: “source” must be one of {', '.join(Watermark.Source.values)}")
        if mark.get("value") and parse_datetime(str(mark["value"])) is None:
            errors.append("incremental: “value” must be a date and time in ISO 8601")
        overlap = mark.get("overlap_seconds", 300)
        if not isinstance(overlap, int) or isinstance(overlap, bool) or overlap < 0:
            errors.append("incremental: “overlap_seconds” must be a whole number of seconds")
    return errors


def apply(kind: str, obj: Any, entry: dict) -> None:
    """Save the sync settings of an imported configuration (after check() found no problem)."""
    if kind == "outgoing" and isinstance(entry.get("create_or_update"), dict):
        data = entry["create_or_update"]
        values: dict[str, Any] = {f: data[f] for f in PLAN_FIELDS if f in data}
        values["storage"] = Storage.objects.filter(identifier=str(data.get("storage") or "")).first()
        CreateOrUpdate.objects.update_or_create(outgoing=obj, defaults=values)
    if kind == "incoming" and isinstance(entry.get("incremental"), dict):
        data = entry["incremental"]
        values = {f: data[f] for f in MARK_FIELDS if f in data}
        values["value"] = parse_datetime(str(data["value"])) if data.get("value") else None
        Watermark.objects.update_or_create(incoming=obj, defaults=values)

"""Audit entries in the dashboard's words: who, when, what happened, and the field diff."""
from __future__ import annotations

from auditlog.models import LogEntry

VERBS = {LogEntry.Action.CREATE: "Created", LogEntry.Action.UPDATE: "Changed", LogEntry.Action.DELETE: "Deleted"}


def describe(entry: LogEntry) -> dict:
    """One row: when, who, what (verb or event), which object, and [(field, old, new)]."""
    extra = entry.additional_data or {}
    if entry.action == LogEntry.Action.ACCESS:
        what = extra.get("event", "Event")
    else:
        what = VERBS.get(entry.action, "Changed")
    changes = []
    if entry.action == LogEntry.Action.UPDATE or entry.action == LogEntry.Action.CREATE:
        for field, values in sorted((entry.changes_dict or {}).items()):
            old, new = (values + [None, None])[:2] if isinstance(values, list) else (None, values)
            changes.append({"field": field.replace("_", " "), "old": _short(old), "new": _short(new),
                            "secret": old == "(secret)" or new == "(secret)"})
    return {
        "entry": entry,
        "when": entry.timestamp,
        "who": entry.actor.get_username() if entry.actor else "system",
        "what": what,
        "kind": entry.content_type.model_class()._meta.verbose_name.capitalize()
        if entry.content_type and entry.content_type.model_class() else "",
        "object": entry.object_repr if entry.object_pk else "",
        "detail": entry.changes_text if entry.action == LogEntry.Action.ACCESS else "",
        "changes": changes,
    }


def _short(value, limit: int = 300) -> str:
    if value is None or value == "None":
        return ""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[:limit] + "…"

"""What an entity's body looks like, for the Outgoing hint, its payload template and the preview.

The catalog lists each body's top-level fields (required first, with types) and, for Timely,
the key the object is wrapped in (``{"client": {...}}``). alumio-lite does not wrap a payload
for the user: the payload is sent exactly as configured, so what the preview shows is what the
platform gets. The template and the hint show the wrapper instead, and the preview warns when
a payload for a wrapped entity lacks it.
"""
from __future__ import annotations

from typing import Any

from .base import Entity

# An empty value of each type the references name, so a template is valid JSON of the right shape.
_EMPTY: dict[str, Any] = {
    "string": "",
    "string(date)": "",
    "integer": 0,
    "number": 0,
    "boolean": False,
    "array": [],
    "object": {},
    "hash": {},
}
FILE_TEMPLATE = {"filename": "", "content_type": "", "base64": ""}


def body_fields(entity: Entity) -> list[dict]:
    """The body's fields, required first (the catalog keeps them in that order already)."""
    return sorted((dict(f) for f in entity.body_fields), key=lambda f: not f.get("required"))


def _empty(kind: str) -> Any:
    if kind == "file":
        return dict(FILE_TEMPLATE)
    if kind.endswith("[]"):
        return []
    return _EMPTY.get(kind, "")


def payload_template(entity: Entity) -> dict:
    """A payload to start from: the required fields (every field when none is required), each
    with an empty value of its type, inside the entity's wrapper key when it has one."""
    fields = body_fields(entity)
    chosen = [f for f in fields if f.get("required")] or fields
    body = {f["name"]: _empty(str(f.get("type") or "")) for f in chosen}
    return {entity.body_wrapper: body} if entity.body_wrapper else body


def wrapper_note(entity: Entity, payload: Any) -> str:
    """A warning when a wrapped entity's payload is not wrapped ("" when all is well)."""
    key = entity.body_wrapper
    if not key or not isinstance(payload, dict) or not payload or key in payload:
        return ""
    return (f"{entity.name} takes its fields wrapped in “{key}”: {{\"{key}\": {{...}}}}. This payload has no "
            f"“{key}” key, so the platform will likely refuse it.")

"""Get branches: split a list into one entity per item."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..json_policy import kind_of
from .base import Field, Kind, StepFunction, _guard, _on_missing_fields, _reader
from .errors import _fail
from .paths import Entity, _lookup, _set


def _build_get_branches(settings: Mapping[str, Any]) -> StepFunction:
    key = settings["key"]
    keep = [k for k in settings.get("keep") or [] if k]
    parent_key = settings.get("parent_key") or ""
    item_key = settings.get("item_key") or "value"
    read = _reader(settings, key)

    def branches(entity: Entity) -> list[Entity]:
        items = read(entity)
        if items is None:
            items = []
        if not isinstance(items, list):
            raise _fail(key, f"holds {kind_of(items)}, not a list; get branches splits a list into one "
                             "entity per item. Point it at a list (e.g. \"lines\").")
        kept = {k: _lookup(entity, k) for k in keep}
        out = []
        for item in items:
            branch = dict(item) if isinstance(item, dict) else {item_key: item}
            for k, v in kept.items():
                branch = _set(branch, f"{parent_key}.{k}" if parent_key else k, v)
            out.append(branch)
        return out

    return _guard(settings)(branches)


KIND = Kind(
    "get_branches", "Get branches", "Split a list into separate entities, one per item, keeping "
    "chosen keys of the parent. Each branch becomes its own task.",
    (
        Field("key", "List key", "key", required=True, help="e.g. lines"),
        Field("keep", "Parent keys to keep", "keys", help="One key a line, e.g. id."),
        Field("parent_key", "Put parent keys under", "text",
              help='e.g. "parent" gives parent.id; empty puts them at the top of each branch.'),
        Field("item_key", "Key for items that are not objects", "text", default="value"),
        *_on_missing_fields(),
    ),
    _build_get_branches,
)

"""Merge defaults: fill in keys the entity lacks, deeply; existing values win."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..json_policy import kind_of
from .base import Field, Kind, StepFunction, _guard
from .errors import _Conflict, _Missing
from .paths import Entity, _lookup, _set


def _deep_merge(defaults: Any, data: Any) -> Any:
    """data wins; objects on both sides merge key by key. New containers only where something changes."""
    if not (isinstance(defaults, dict) and isinstance(data, dict)):
        return data
    merged = dict(data)
    for k, dv in defaults.items():
        if k not in data:
            merged[k] = dv
        elif isinstance(dv, dict) and isinstance(data[k], dict):
            merged[k] = _deep_merge(dv, data[k])
    return merged


def _build_merge_defaults(settings: Mapping[str, Any]) -> StepFunction:
    defaults = settings["defaults"]
    base = settings.get("key") or ""

    if not base:
        return _guard(settings)(lambda entity: [_deep_merge(defaults, entity)])

    def merge_at(entity: Entity) -> list[Entity]:
        try:
            current = _lookup(entity, base)
        except _Missing:
            current = {}
        if not isinstance(current, dict):
            raise _Conflict(base, f"holds {kind_of(current)}; defaults merge into an object.")
        return [_set(entity, base, _deep_merge(defaults, current))]

    return _guard(settings)(merge_at)


KIND = Kind(
    "merge_defaults", "Merge defaults", "Fill in keys the entity lacks, deeply; existing values win.",
    (
        Field("defaults", "Defaults", "object", required=True),
        Field("key", "Into object", "key", help="Leave empty for the entity itself."),
    ),
    _build_merge_defaults,
)

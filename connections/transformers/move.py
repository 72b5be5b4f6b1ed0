"""Move key: rename a key (copy it, then remove the old one)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Field, Kind, StepFunction, _guard, _on_missing_fields, _reader
from .errors import _Missing
from .paths import Entity, _delete, _set


def _build_move(settings: Mapping[str, Any]) -> StepFunction:
    source, target = settings["source"], settings["target"]
    read = _reader(settings, source)

    def move(entity: Entity) -> list[Entity]:
        value = read(entity)
        try:
            without = _delete(entity, source)
        except _Missing:
            without = entity  # the default was used: there is nothing to take away
        if source == target:
            return [entity]
        return [_set(without, target, value)]

    return _guard(settings)(move)


KIND = Kind(
    "move", "Move key", "Rename a key: copy it to the new key and remove the old one.",
    (
        Field("source", "From key", "key", required=True),
        Field("target", "To key", "key", required=True),
        *_on_missing_fields(),
    ),
    _build_move,
)

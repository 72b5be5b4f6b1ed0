"""Remove keys from the entity."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import ON_MISSING_CHOICES, Field, Kind, StepFunction, _guard
from .errors import _Problem
from .paths import Entity, _delete


def _build_remove(settings: Mapping[str, Any]) -> StepFunction:
    keys = list(settings["keys"])

    def remove(entity: Entity) -> list[Entity]:
        for key in keys:
            entity = _delete(entity, key)
        return [entity]

    if (settings.get("on_missing") or "skip") == "skip":
        # Per key, so one absent key does not keep the others.
        def remove_present(entity: Entity) -> list[Entity]:
            for key in keys:
                try:
                    entity = _delete(entity, key)
                except _Problem:
                    pass
            return [entity]
        return remove_present
    return _guard(settings)(remove)



KIND = Kind(
    "remove", "Remove keys", "Remove keys from the entity.",
    (
        Field("keys", "Keys", "keys", required=True, help="One key a line."),
        Field("on_missing", "When a key is missing", "choice", choices=ON_MISSING_CHOICES[:2],
              default="skip"),
    ),
    _build_remove,
)

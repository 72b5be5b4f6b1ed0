"""Save to storage: keep the entity (or a part of it) in a storage under a key made from the entity."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import context
from .base import Field, Kind, StepFunction, _guard
from .paths import Entity
from .storage_common import KEY_FIELD, STORAGE_FIELD, check_storage, key_renderer, part_reader


def _build(settings: Mapping[str, Any]) -> StepFunction:
    identifier = settings["storage"]
    key_of = key_renderer(settings["key"])
    part_of = part_reader(settings)

    def save(entity: Entity) -> list[Entity]:
        ctx = context.current()
        storage = ctx.storage(identifier)
        ctx.write(storage, key_of(entity), part_of(entity))
        return [entity]

    return _guard(settings)(save)


KIND = Kind(
    "save_to_storage", "Save to storage",
    "Keep the entity, or the part at a path, in a storage under a key made from the entity. The entity "
    "passes on unchanged. In a run the entry is saved with the page's tasks; the tester never saves.",
    (
        STORAGE_FIELD,
        KEY_FIELD,
        Field("path", "Save only this path", "key", help="e.g. payload; leave empty to save the whole entity."),
    ),
    _build,
    pure=False,
    check=check_storage,
    example={"storage": "", "key": "&{id}"},
)

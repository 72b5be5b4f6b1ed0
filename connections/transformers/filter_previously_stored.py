"""Filter previously stored entities (Alumio's behaviour): drop an entity whose content is unchanged.

The entity (or the part at a path) is compared with what the storage holds under its key. The same
content: dropped, so it makes no task. New or changed: it passes and is stored, so the next run
drops it unless it changes again. In a run the entry is saved in the same transaction as the page's
tasks, so an entity is never marked as stored without its task.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import context
from .base import Field, Kind, StepFunction, _guard
from .paths import Entity
from .storage_common import KEY_FIELD, STORAGE_FIELD, check_storage, key_renderer, part_reader


def _build(settings: Mapping[str, Any]) -> StepFunction:
    from storages.store import digest

    identifier = settings["storage"]
    key_of = key_renderer(settings["key"])
    part_of = part_reader(settings)

    def only_changed(entity: Entity) -> list[Entity]:
        ctx = context.current()
        storage = ctx.storage(identifier)
        key = key_of(entity)
        content = part_of(entity)
        if ctx.read_digest(storage, key) == digest(content):
            if ctx.mode == context.DRY_RUN:
                ctx.notes.append(f'Dropped: key "{key}" is stored in "{storage.name}" with the same content.')
            return []
        ctx.write(storage, key, content)
        return [entity]

    return _guard(settings)(only_changed)


KIND = Kind(
    "filter_previously_stored", "Filter previously stored entities",
    "Drop an entity whose content is the same as when it was last stored under its key; store the ones "
    "that pass. A dropped entity makes no task.",
    (
        STORAGE_FIELD,
        KEY_FIELD,
        Field("path", "Compare only this path", "key",
              help="e.g. payload, to ignore keys that change on every read; empty compares the whole entity."),
    ),
    _build,
    pure=False,
    check=check_storage,
    example={"storage": "", "key": "&{id}"},
)

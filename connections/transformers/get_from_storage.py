"""Get from storage: read the entry at a key made from the entity and put it at a key of the entity."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import context
from .base import Field, Kind, StepFunction, _guard
from .errors import _fail
from .paths import Entity, _set
from .storage_common import KEY_FIELD, STORAGE_FIELD, check_storage, key_renderer

ON_ABSENT = (("error", "Stop with an error"), ("skip", "Skip this step"), ("default", "Use the default"))


def _build(settings: Mapping[str, Any]) -> StepFunction:
    from storages.store import MISSING

    identifier = settings["storage"]
    key_of = key_renderer(settings["key"])
    target = settings["target"]
    policy = settings.get("on_absent") or "error"
    default = settings.get("default")

    def fetch(entity: Entity) -> list[Entity]:
        ctx = context.current()
        storage = ctx.storage(identifier)
        key = key_of(entity)
        value = ctx.read(storage, key)
        if value is MISSING:
            if policy == "skip":
                return [entity]
            if policy == "default":
                return [_set(entity, target, default)]
            raise _fail(None, f'storage "{storage.name}" has no entry with key "{key}". Choose "Skip this step" '
                              'or "Use the default" under "When the entry is missing" if that can happen.')
        return [_set(entity, target, value)]

    return _guard(settings)(fetch)


def _check(settings: Mapping[str, Any]) -> list[str]:
    errors = check_storage(settings)
    if settings.get("on_absent") == "default" and "default" not in settings:
        errors.append('"Use the default" needs a Default value.')
    return errors


KIND = Kind(
    "get_from_storage", "Get from storage",
    "Read the entry stored under a key made from the entity, and put it at a key of the entity.",
    (
        STORAGE_FIELD,
        KEY_FIELD,
        Field("target", "Put it at", "key", required=True, help="e.g. stored or payload.owner"),
        Field("on_absent", "When the entry is missing", "choice", choices=ON_ABSENT, default="error"),
        Field("default", "Default", "value", help="Used when the entry is missing and the choice above says so."),
    ),
    _build,
    pure=False,
    check=_check,
    example={"storage": "", "key": "&{id}", "target": "stored"},
)

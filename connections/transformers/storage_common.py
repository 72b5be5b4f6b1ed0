"""What the storage kinds share: the storage and key settings, and turning a key template into a key."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .base import Field
from .errors import _fail
from .paths import Entity, _lookup
from .templates import _as_text, _compile_template

STORAGE_FIELD = Field("storage", "Storage", "text", required=True, suggest="storages",
                      help="The identifier of a storage (Connections → Storages), e.g. picqer-customers.")
KEY_FIELD = Field("key", "Storage key", "text", required=True,
                  help="A template for the key under which the entity is kept, e.g. &{idcustomer} or "
                       "customer-&{id}.")


def key_renderer(template: str) -> Callable[[Entity], str]:
    """entity -> storage key text. Missing keys raise the usual on-missing problem."""
    renderer = _compile_template(template)
    if renderer is None:
        return lambda entity: template  # a constant key: one entry for every entity

    def render(entity: Entity) -> str:
        value = renderer(entity)
        text = _as_text(value)
        if not text:
            raise _fail(None, f'the storage key template "{template}" gave an empty key. Pick a key every '
                              "entity has a value for.")
        return text

    return render


def part_reader(settings: Mapping[str, Any], name: str = "path") -> Callable[[Entity], Any]:
    """The part of the entity a step keeps or compares: the value at settings[name], or the whole entity."""
    path = settings.get(name) or ""
    if not path:
        return lambda entity: entity
    return lambda entity: _lookup(entity, path)


def check_storage(settings: Mapping[str, Any]) -> list[str]:
    """The storage must exist when the step is saved (so a typo shows on the editor, not in a run)."""
    from storages.models import Storage

    identifier = settings.get("storage")
    if isinstance(identifier, str) and identifier and not Storage.objects.filter(identifier=identifier).exists():
        return [f'there is no storage "{identifier}"; create it under Connections → Storages first.']
    return []

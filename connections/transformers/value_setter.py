"""Value setter: set a key to a constant or to a template rendered from the entity."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Field, Kind, StepFunction, _guard, _on_missing_fields
from .errors import _Missing
from .paths import Entity, _set
from .templates import _compile_template


def _build_value_setter(settings: Mapping[str, Any]) -> StepFunction:
    key = settings["key"]
    value = settings.get("value")
    renderer = _compile_template(value)
    fallback_mode = settings.get("on_missing") == "default"
    fallback = settings.get("default")

    if renderer is None:
        def set_constant(entity: Entity) -> list[Entity]:
            return [_set(entity, key, value)]
        return _guard(settings)(set_constant)

    def set_rendered(entity: Entity) -> list[Entity]:
        try:
            rendered = renderer(entity)
        except _Missing:
            if not fallback_mode:
                raise
            rendered = fallback
        return [_set(entity, key, rendered)]

    return _guard(settings)(set_rendered)


KIND = Kind(
    "value_setter", "Value setter",
    "Set a key to a value, or to a template: &{customer.id} reads another key. A value that is "
    "exactly one placeholder keeps its type.",
    (
        Field("key", "Key", "key", required=True, help="Where to write, e.g. payload.name or path.id."),
        Field("value", "Value", "value", required=True,
              help='JSON or text; placeholders like &{name} read the entity, e.g. "&{first} &{last}".'),
        *_on_missing_fields(),
    ),
    _build_value_setter,
    example={"key": "payload.name", "value": "&{name}"},
)

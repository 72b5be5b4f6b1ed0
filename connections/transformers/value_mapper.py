"""Value mapper: replace a value using a table."""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..json_policy import kind_of
from .base import Field, Kind, StepFunction, _guard, _on_missing_fields, _reader
from .errors import _fail
from .paths import _MISSING, Entity, _set


def _lookup_form(value: Any) -> str:
    """How a value is found in a value map whose keys are text: JSON's spelling for non-strings."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _build_value_mapper(settings: Mapping[str, Any]) -> StepFunction:
    key = settings["key"]
    mapping = {str(k): v for k, v in dict(settings["mapping"]).items()}
    has_default = "unmapped" in settings and settings.get("unmapped") is not None
    unmapped = settings.get("unmapped")
    read = _reader(settings, key)

    def map_value(entity: Entity) -> list[Entity]:
        value = read(entity)
        if isinstance(value, dict | list):
            raise _fail(key, f"holds {kind_of(value)}; the value mapper maps single values. "
                             "Point it at a text, number or boolean key.")
        found = mapping.get(_lookup_form(value), _MISSING)
        if found is _MISSING:
            if not has_default:
                return [_set(entity, key, value)] if settings.get("on_missing") == "default" else [entity]
            found = unmapped
        return [_set(entity, key, found)]

    return _guard(settings)(map_value)


KIND = Kind(
    "value_mapper", "Value mapper", "Replace a value using a table; values not in the table get the "
    "default (or stay as they are when there is none).",
    (
        Field("key", "Key", "key", required=True),
        Field("mapping", "Values", "object", required=True, help='{"open": "active", "true": 1, ...}'),
        Field("unmapped", "Default for values not in the table", "value",
              help="Leave empty to keep such values unchanged."),
        *_on_missing_fields(),
    ),
    _build_value_mapper,
)

"""Copy key: copy a value to another key; the source stays."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Field, Kind, StepFunction, _guard, _on_missing_fields, _reader
from .paths import _set


def _build_copy(settings: Mapping[str, Any]) -> StepFunction:
    source, target = settings["source"], settings["target"]
    read = _reader(settings, source)
    return _guard(settings)(lambda entity: [_set(entity, target, read(entity))])


KIND = Kind(
    "copy", "Copy key", "Copy a value to another key; the source stays.",
    (
        Field("source", "From key", "key", required=True),
        Field("target", "To key", "key", required=True),
        *_on_missing_fields(),
    ),
    _build_copy,
)

"""Key mapper: rename keys of an object with a table of old -> new names."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..json_policy import kind_of
from .base import Field, Kind, StepFunction, _guard, _on_missing_fields
from .errors import _Conflict
from .paths import _lookup, _set


def _build_key_mapper(settings: Mapping[str, Any]) -> StepFunction:
    base = settings.get("key") or ""
    mapping = dict(settings["mapping"])
    keep_unmapped = settings.get("keep_unmapped", True) is not False

    def rename(obj: Any) -> dict:
        if not isinstance(obj, dict):
            raise _Conflict(base or "(the entity)", f"holds {kind_of(obj)}; the key mapper renames the keys "
                                                    "of an object. Point it at an object.")
        out = {}
        for k, v in obj.items():
            if k in mapping:
                out[mapping[k]] = v
            elif keep_unmapped:
                out.setdefault(k, v)
        return out

    if not base:
        return _guard(settings)(lambda entity: [rename(entity)])
    return _guard(settings)(lambda entity: [_set(entity, base, rename(_lookup(entity, base)))])


KIND = Kind(
    "key_mapper", "Key mapper", "Rename keys of an object with a table of old -> new names.",
    (
        Field("mapping", "Renames", "object", required=True, help='{"old name": "new name", ...}'),
        Field("key", "In object", "key", help="Leave empty for the entity itself."),
        Field("keep_unmapped", "Keep keys that are not in the table", "bool", default=True),
        *_on_missing_fields(),
    ),
    _build_key_mapper,
)

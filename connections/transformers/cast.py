"""Cast: change a value's type (text, number, integer, boolean, date)."""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from ..json_policy import kind_of
from .base import Field, Kind, StepFunction, _guard, _on_missing_fields, _reader
from .errors import _fail
from .paths import _set
from .templates import _as_text

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off", ""}


def _cast_number(value: Any, key: str, integer: bool) -> int | float:
    target = "an integer" if integer else "a number"
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)  # whole numbers stay exact, however long
        try:
            number = float(text)
        except ValueError:
            raise _fail(key, f"cannot cast {json.dumps(value)} to {target}. Fix the data, or put a value "
                             "mapper or filter step before this one for such values.") from None
    elif isinstance(value, float):
        number = value
    else:
        raise _fail(key, f"holds {kind_of(value)}, which cannot be cast to {target}.")
    if not math.isfinite(number):
        raise _fail(key, f"cannot cast {json.dumps(value)} to {target}: it is not a finite number.")
    if integer:
        if not number.is_integer():
            raise _fail(key, f"{json.dumps(value)} has a fraction; cast to number instead, or round it first.")
        return int(number)
    return number


def _cast_bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _fail(key, f"cannot cast {json.dumps(value)} to a boolean; use true/false, yes/no, on/off or 1/0 "
                     "(or map the values first with a value mapper).")


def _parse_date(value: Any, key: str, input_format: str) -> datetime:
    if isinstance(value, bool):
        raise _fail(key, "holds a boolean, which is not a date.")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)  # a Unix timestamp in seconds
        except (ValueError, OverflowError, OSError):  # past year 9999, NaN or infinity
            raise _fail(key, f"holds {value}, which is not a Unix timestamp (seconds) of a usable date.") from None
    if not isinstance(value, str):
        raise _fail(key, f"holds {kind_of(value)}, which is not a date.")
    try:
        if input_format:
            return datetime.strptime(value, input_format)
        return datetime.fromisoformat(value.strip())
    except ValueError:
        wanted = f'the input format "{input_format}"' if input_format else "ISO 8601 (e.g. 2024-05-31T12:00:00Z)"
        raise _fail(key, f"cannot read {json.dumps(value)} as a date in {wanted}. Set the input format "
                         "(strftime codes such as %d-%m-%Y) to match the data.") from None


def _format_date(moment: datetime, output_format: str) -> Any:
    if output_format in ("", "date"):
        return moment.date().isoformat()
    if output_format == "iso":
        return moment.isoformat()
    if output_format == "timestamp":
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())
    return moment.strftime(output_format)


CAST_TARGETS = (("string", "Text"), ("number", "Number"), ("integer", "Integer"), ("bool", "Boolean"),
                ("date", "Date"))


def _build_cast(settings: Mapping[str, Any]) -> StepFunction:
    key, to = settings["key"], settings["to"]
    read = _reader(settings, key)
    input_format = settings.get("input_format") or ""
    output_format = settings.get("output_format") or ""

    def convert(value: Any) -> Any:
        if value is None:
            return None  # an empty optional field stays empty whatever its type
        if to == "string":
            if isinstance(value, dict | list):
                return json.dumps(value, ensure_ascii=False)
            return _as_text(value)
        if to in ("number", "integer"):
            return _cast_number(value, key, to == "integer")
        if to == "bool":
            return _cast_bool(value, key)
        if to == "date":
            if isinstance(value, date) and not isinstance(value, datetime):
                value = value.isoformat()
            return _format_date(_parse_date(value, key, input_format), output_format)
        raise _fail(key, f'unknown cast target "{to}".')

    return _guard(settings)(lambda entity: [_set(entity, key, convert(read(entity)))])


KIND = Kind(
    "cast", "Cast", "Change a value's type: text, number, integer, boolean or date.",
    (
        Field("key", "Key", "key", required=True),
        Field("to", "To", "choice", required=True, choices=CAST_TARGETS, default="string"),
        Field("input_format", "Date input format", "text",
              help="strftime codes such as %d-%m-%Y; empty reads ISO 8601 or a Unix timestamp."),
        Field("output_format", "Date output format", "text",
              help='strftime codes, or "date" (2024-05-31, the default), "iso" or "timestamp".'),
        *_on_missing_fields(),
    ),
    _build_cast,
)

"""Conditions ({key, op, value}) as the Filter kind tests them; shared by kinds that branch on data."""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ..json_policy import kind_of
from .errors import _fail, _Missing
from .paths import Entity, _lookup

FILTER_OPS = (
    ("equals", "equals"), ("not_equals", "does not equal"), ("contains", "contains"),
    ("exists", "exists"), ("not_exists", "does not exist"), ("gt", "is greater than"),
    ("gte", "is at least"), ("lt", "is less than"), ("lte", "is at most"), ("in", "is one of (a list)"),
    ("not_in", "is not one of (a list)"),
)
_OPS = {op for op, _ in FILTER_OPS}


def _same(a: Any, b: Any) -> bool:
    # 5 == 5.0 but True != 1: a boolean in the data should not match the number 1 in a filter.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _compare(left: Any, right: Any, key: str) -> int:
    def number(v: Any) -> float | None:
        if isinstance(v, bool):
            return None
        if isinstance(v, int | float):
            return float(v)
        if isinstance(v, str):
            try:
                return float(v)
            except ValueError:
                return None
        return None

    ln, rn = number(left), number(right)
    if ln is not None and rn is not None:
        return (ln > rn) - (ln < rn)
    if isinstance(left, str) and isinstance(right, str):  # ISO dates compare as text
        return (left > right) - (left < right)
    raise _fail(key, f"cannot compare {kind_of(left)} ({json.dumps(left)}) with {json.dumps(right)}; "
                     "compare numbers with numbers or text with text.")


def _condition(cond: Mapping[str, Any], on_missing: str, fallback: Any) -> Callable[[Entity], bool]:
    key, op, expected = cond["key"], cond["op"], cond.get("value")

    def test(entity: Entity) -> bool:
        try:
            value = _lookup(entity, key)
        except _Missing:
            if op == "exists":
                return False
            if op == "not_exists":
                return True
            if on_missing == "skip":
                return False  # a condition on a missing key does not match
            if on_missing == "default":
                value = fallback
            else:
                raise
        if op == "exists":
            return True
        if op == "not_exists":
            return False
        if op == "equals":
            return _same(value, expected)
        if op == "not_equals":
            return not _same(value, expected)
        if op == "contains":
            if isinstance(value, str):
                return isinstance(expected, str) and expected in value
            if isinstance(value, list):
                return any(_same(item, expected) for item in value)
            if isinstance(value, dict):
                return isinstance(expected, str) and expected in value
            raise _fail(key, f'holds {kind_of(value)}; "contains" needs a list or a text. Use "equals" '
                             "for single values.")
        if op in ("in", "not_in"):
            if not isinstance(expected, list):
                raise _fail(key, f'"{op}" needs a list of values in the condition, e.g. ["open", "paid"].')
            found = any(_same(value, item) for item in expected)
            return found if op == "in" else not found
        order = _compare(value, expected, key)
        return {"gt": order > 0, "gte": order >= 0, "lt": order < 0, "lte": order <= 0}[op]

    return test


def check_conditions(settings: Mapping[str, Any]) -> list[str]:
    errors = []
    conditions = settings.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        return ['add at least one condition: [{"key": "status", "op": "equals", "value": "open"}].']
    for n, cond in enumerate(conditions, 1):
        if not isinstance(cond, dict):
            errors.append(f"condition {n} must be an object with key, op and value.")
            continue
        if not isinstance(cond.get("key"), str) or not cond.get("key"):
            errors.append(f'condition {n} needs a "key".')
        op = cond.get("op")
        if op not in _OPS:
            errors.append(f'condition {n}: unknown op "{op}"; use one of {", ".join(sorted(_OPS))}.')
        elif op in ("in", "not_in") and not isinstance(cond.get("value"), list):
            errors.append(f'condition {n}: "{op}" needs a list as its value, e.g. ["open", "paid"].')
    if settings.get("match", "all") not in ("all", "any", None, ""):
        errors.append('"match" must be all or any.')
    return errors

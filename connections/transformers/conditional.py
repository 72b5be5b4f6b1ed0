"""Conditional: when the conditions hold, run these steps, else those (conditions as the Filter kind has)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Field, Kind, StepFunction
from .conditions import FILTER_OPS, _condition, check_conditions
from .errors import TransformError, _fail, _Problem
from .paths import Entity

MAX_DEPTH = 5  # conditionals inside conditionals: enough for real chains, not a way to hang the editor


def _build(settings: Mapping[str, Any]) -> StepFunction:
    from .chain import _compile, _run

    on_missing = settings.get("on_missing") or "error"
    tests = [_condition(c, on_missing, settings.get("default")) for c in settings["conditions"]]
    match_all = (settings.get("match") or "all") == "all"
    branches = {"then": _compile(settings.get("then_steps") or []), "else": _compile(settings.get("else_steps") or [])}

    def branch(entity: Entity) -> list[Entity]:
        try:
            holds = all(t(entity) for t in tests) if match_all else any(t(entity) for t in tests)
        except _Problem as exc:
            raise _fail(exc.key, exc.detail + ' Add an "exists" condition, or choose what a missing key means.') \
                from None
        which = "then" if holds else "else"
        try:
            return _run(branches[which], entity)
        except TransformError as exc:  # say which inner step, the outer chain names this one
            inner = exc.step_label or "a step"
            raise TransformError(f"{which} {inner}: {exc.detail}", key=exc.key) from None

    return branch


def _check(settings: Mapping[str, Any]) -> list[str]:
    from .chain import validate_steps

    errors = check_conditions(settings)
    for name, label in (("then_steps", "then"), ("else_steps", "else")):
        steps = settings.get(name) or []
        if _depth(steps) > MAX_DEPTH:
            errors.append(f"conditionals are nested more than {MAX_DEPTH} deep.")
            continue
        errors += [f"{label} {e[:1].lower()}{e[1:]}" for e in validate_steps(steps)]
    if not settings.get("then_steps") and not settings.get("else_steps"):
        errors.append("add steps to run when the conditions hold, or when they do not.")
    return errors


def _depth(steps: Any, level: int = 1) -> int:
    deepest = level
    for step in steps if isinstance(steps, list) else []:
        if isinstance(step, dict) and step.get("kind") == "conditional":
            s = step.get("settings") or {}
            deepest = max(deepest, _depth(s.get("then_steps"), level + 1), _depth(s.get("else_steps"), level + 1))
            if deepest > MAX_DEPTH:
                break
    return deepest


KIND = Kind(
    "conditional", "Conditional",
    "When the conditions hold, run the “then” steps; else the “else” steps. Either list may be empty.",
    (
        Field("conditions", "Conditions", "conditions", required=True,
              help='[{"key": "status", "op": "equals", "value": "open"}]; ops: '
                   + ", ".join(op for op, _ in FILTER_OPS) + "."),
        Field("match", "Match", "choice", choices=(("all", "All conditions"), ("any", "Any condition")),
              default="all"),
        Field("then_steps", "Then", "steps", help='Steps as JSON, e.g. [{"kind": "value_setter", "settings": '
                                                  '{"key": "type", "value": "company"}}].'),
        Field("else_steps", "Else", "steps", help="Steps run when the conditions do not hold."),
        Field("on_missing", "When a key is missing", "choice",
              choices=(("error", "Stop with an error"), ("skip", "The condition does not hold"),
                       ("default", "Use the default")), default="error"),
        Field("default", "Default", "value"),
    ),
    _build,
    check=_check,
    example={"conditions": [{"key": "status", "op": "equals", "value": "open"}], "then_steps": [],
             "else_steps": []},
)

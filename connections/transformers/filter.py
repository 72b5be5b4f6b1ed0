"""Filter: keep or drop the entity on conditions."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Field, Kind, StepFunction
from .conditions import FILTER_OPS, _condition, check_conditions
from .errors import _fail, _Problem
from .paths import Entity


def _build_filter(settings: Mapping[str, Any]) -> StepFunction:
    on_missing = settings.get("on_missing") or "error"
    tests = [_condition(c, on_missing, settings.get("default")) for c in settings["conditions"]]
    match_all = (settings.get("match") or "all") == "all"
    keep_on_match = (settings.get("action") or "keep") == "keep"

    def run_filter(entity: Entity) -> list[Entity]:
        matched = all(t(entity) for t in tests) if match_all else any(t(entity) for t in tests)
        return [entity] if matched == keep_on_match else []

    # Not wrapped by _guard: on_missing has its own meaning per condition here.
    def strict(entity: Entity) -> list[Entity]:
        try:
            return run_filter(entity)
        except _Problem as exc:
            raise _fail(exc.key, exc.detail + ' Add an "exists" condition, or choose what a missing key means '
                                              'under "When the key is missing".') from None

    return strict


def _check_filter(settings: Mapping[str, Any]) -> list[str]:
    errors = check_conditions(settings)
    if settings.get("action", "keep") not in ("keep", "drop", None, ""):
        errors.append('"action" must be keep or drop.')
    return errors


KIND = Kind(
    "filter", "Filter", "Keep or drop the entity on conditions. A dropped entity makes no task.",
    (
        Field("conditions", "Conditions", "conditions", required=True,
              help='[{"key": "status", "op": "equals", "value": "open"}]; ops: '
                   + ", ".join(op for op, _ in FILTER_OPS) + "."),
        Field("match", "Match", "choice", choices=(("all", "All conditions"), ("any", "Any condition")),
              default="all"),
        Field("action", "When they match", "choice",
              choices=(("keep", "Keep the entity"), ("drop", "Drop the entity")), default="keep"),
        Field("on_missing", "When a key is missing", "choice",
              choices=(("error", "Stop with an error"), ("skip", "The condition does not match"),
                       ("default", "Use the default")), default="error"),
        Field("default", "Default", "value"),
    ),
    _build_filter,
    check=_check_filter,
)

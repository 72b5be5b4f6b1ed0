"""Validating, describing and running chains of steps."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from variables import resolve as variables

from ..json_policy import kind_of
from .base import StepFunction
from .errors import TransformError, _Problem
from .paths import Entity
from .registry import KINDS

if TYPE_CHECKING:  # pragma: no cover
    from connections.models import Transformer

_TYPE_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "key": (lambda v: isinstance(v, str), "a key (text)"),
    "text": (lambda v: isinstance(v, str), "text"),
    "keys": (lambda v: isinstance(v, list) and all(isinstance(k, str) for k in v), "a list of keys"),
    "object": (lambda v: isinstance(v, dict), "a JSON object"),
    "conditions": (lambda v: isinstance(v, list), "a list of conditions"),
    "steps": (lambda v: isinstance(v, list), "a list of steps"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "value": (lambda v: True, "a value"),
}


def step_label(index: int, step: Any) -> str:
    """``step 2 (Cast)`` for the step at 0-based ``index``."""
    kind = KINDS.get(step.get("kind")) if isinstance(step, dict) else None
    name = kind.label if kind else (step.get("kind") if isinstance(step, dict) and step.get("kind") else "?")
    return f"step {index + 1} ({name})"


def _step_errors(step: Any) -> list[str]:
    if not isinstance(step, dict):
        return ['must be an object like {"kind": "copy", "settings": {...}}.']
    kind = KINDS.get(step.get("kind"))
    if kind is None:
        return [f'unknown kind "{step.get("kind")}"; use one of {", ".join(KINDS)}.']
    settings = step.get("settings", {})
    if not isinstance(settings, dict):
        return ["settings must be an object."]
    errors = []
    for f in kind.fields:
        value = settings.get(f.name)
        absent = f.name not in settings if f.type == "value" else value is None  # null is a fine value to set
        if absent or (f.type in ("key", "text", "keys") and value in ("", [])):
            if f.required:
                errors.append(f'"{f.label}" is required (setting "{f.name}").')
            continue
        if value is None:
            continue
        ok, wanted = _TYPE_CHECKS.get(f.type, (lambda v: True, ""))
        if f.type == "choice":
            allowed = [c for c, _ in f.choices]
            if value not in allowed:
                errors.append(f'"{f.label}" must be one of {", ".join(allowed)}, not "{value}".')
        elif not ok(value):
            errors.append(f'"{f.label}" must be {wanted} (setting "{f.name}").')
        elif f.type == "key" and (value.startswith(".") or value.endswith(".") or ".." in value):
            errors.append(f'"{f.label}": "{value}" is not a valid key; use dots between names, e.g. customer.id.')
    if settings.get("on_missing") == "default" and "default" in {f.name for f in kind.fields} \
            and "default" not in settings:
        errors.append('"Use the default" needs a Default value.')
    if kind.check and not errors:
        errors.extend(kind.check(settings))
    return errors


def validate_steps(steps: Any) -> list[str]:
    """Every problem with a chain's settings, each naming its step; [] when the chain is valid."""
    if not isinstance(steps, list):
        return ["Steps must be a list."]
    errors = []
    for index, step in enumerate(steps):
        label = step_label(index, step)
        errors.extend(f"{label[:1].upper()}{label[1:]}: {e}" for e in _step_errors(step))
    return errors


def describe_step(step: Mapping[str, Any]) -> str:
    """One line for lists: 'Cast price to number'.

    Always text a page can send: a lone surrogate saved before the forms refused it (see
    json_policy) is shown as its \\ud800 escape instead of breaking the Transformers list.
    """
    from ..json_policy import sendable

    return sendable(_describe_step(step))


def _describe_step(step: Mapping[str, Any]) -> str:
    kind = KINDS.get(step.get("kind", ""))
    s = step.get("settings") or {}
    if kind is None:
        return f"Unknown kind {step.get('kind')!r}"
    match kind.key:
        case "value_setter":
            return f"Set {s.get('key')} = {json.dumps(s.get('value'), ensure_ascii=False)}"
        case "copy" | "move":
            return f"{kind.label.split()[0]} {s.get('source')} → {s.get('target')}"
        case "remove":
            return "Remove " + ", ".join(s.get("keys") or [])
        case "cast":
            return f"Cast {s.get('key')} to {s.get('to')}"
        case "filter":
            return f"{(s.get('action') or 'keep').capitalize()} when {s.get('match') or 'all'} of " \
                   f"{len(s.get('conditions') or [])} condition(s) match"
        case "get_branches":
            return f"One entity per item of {s.get('key')}"
        case "save_to_storage" | "filter_previously_stored" | "get_from_storage":
            return f"{kind.label} “{s.get('storage')}” by {s.get('key')}"
        case "http_request":
            return f"HTTP request {s.get('entity')} via {s.get('client')} → {s.get('target')}"
        case "conditional":
            return f"If {s.get('match') or 'all'} of {len(s.get('conditions') or [])} condition(s): " \
                   f"{len(s.get('then_steps') or [])} step(s), else {len(s.get('else_steps') or [])}"
    return kind.label


# ------------------------------------------------------------------------------------------- runner


@dataclass
class CompiledStep:
    index: int
    label: str
    run: StepFunction


def _compile(steps: Any) -> list[CompiledStep]:
    if not isinstance(steps, list):
        raise TransformError("Steps must be a list.")
    compiled = []
    for index, step in enumerate(steps):
        label = step_label(index, step)
        problems = _step_errors(step)
        if problems:
            raise TransformError(" ".join(problems) + " Fix the step's settings.", step_index=index,
                                 step_label=label)
        try:  # ${NAME} environment variables in the settings: today's values, each time a chain is built
            settings = variables.resolve(step.get("settings") or {})
        except variables.UnknownVariable as exc:
            raise TransformError(variables.sentence(exc), step_index=index, step_label=label) from None
        compiled.append(CompiledStep(index, label, KINDS[step["kind"]].build(settings)))
    return compiled


def _run(compiled: list[CompiledStep], entity: Entity, transformer: str | None = None) -> list[Entity]:
    if not isinstance(entity, dict):
        raise TransformError(f"The input must be a JSON object (an entity), not {kind_of(entity)}.",
                             transformer=transformer)
    current = [entity]
    for step in compiled:
        try:
            if len(current) == 1:  # the common case: no branching so far
                current = step.run(current[0])
            else:
                nxt: list[Entity] = []
                for item in current:
                    nxt.extend(step.run(item))
                current = nxt
        except TransformError as exc:
            err = exc.located(step.index, step.label)
            raise (err.in_transformer(transformer) if transformer else err) from None
        except _Problem as exc:  # a kind forgot to guard; still say where
            err = TransformError(exc.detail, step_index=step.index, step_label=step.label, key=exc.key)
            raise (err.in_transformer(transformer) if transformer else err) from None
        if not current:
            break
    return current


def trace_chain(steps: list[dict], entities: list[Entity]) -> tuple[list[Entity], list[tuple[str, int]]]:
    """Run a chain over entities, step by step, for the tester: (outputs, [(step label, entities after)]).

    Raises TransformError like apply_chain; the counts show where filters drop and branches split.
    """
    compiled = _compile(steps)
    for entity in entities:
        if not isinstance(entity, dict):
            raise TransformError(f"The input must be a JSON object (an entity), not {kind_of(entity)}.")
    current = list(entities)
    counts = []
    for step in compiled:
        nxt: list[Entity] = []
        for item in current:
            nxt.extend(_run([step], item))
        current = nxt
        counts.append((step.label, len(current)))
    return current, counts


def compile_chain(steps: list[dict]) -> Callable[[Entity], list[Entity]]:
    """Validate and prepare a chain once; the result runs one entity at a time.

    Raises TransformError (naming the step) when a step's settings are invalid.
    """
    compiled = _compile(steps)
    return lambda entity: _run(compiled, entity)


def apply_chain(steps: list[dict], entity: Entity) -> list[Entity]:
    """Run a list of steps on one entity: [] dropped, [e] shaped, [e1, e2, ...] branches."""
    return _run(_compile(steps), entity)


def compile_transformers(transformers: Iterable[Transformer]) -> Callable[[Entity], list[Entity]]:
    """Chain saved transformers in order; errors name the transformer, the step and the key."""
    chains = []
    for transformer in transformers:
        try:
            chains.append((transformer.name, _compile(transformer.steps)))
        except TransformError as exc:
            raise exc.in_transformer(transformer.name) from None

    def run_all(entity: Entity) -> list[Entity]:
        current = [entity]
        for name, compiled in chains:
            nxt: list[Entity] = []
            for item in current:
                nxt.extend(_run(compiled, item, transformer=name))
            current = nxt
            if not current:
                break
        return current

    return run_all


def apply_transformers(transformers: Iterable[Transformer], entity: Entity) -> list[Entity]:
    """Run saved transformers in order on one entity (see apply_chain for the result)."""
    return compile_transformers(transformers)(entity)

"""Forms for saved transformers: the details form and the step editor's parsing.

The step editor posts flat fields (``steps-TOTAL``, ``steps-0-kind``, ``steps-0-key`` ...). What the
user typed is kept as raw text in ``StepRow`` so a bad value (say, half-typed JSON) is shown back with
its error and nothing is lost; ``StepRow.settings`` is the parsed form that the chain runner takes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django import forms

from variables import resolve as variables

from . import json_policy
from .form_fields import unstorable_message
from .forms import derived_identifier
from .models import Transformer
from .transformers import KINDS, Field, Kind, validate_steps

PREFIX = "steps"


class TransformerForm(forms.ModelForm):
    """Name, identifier (derived from the name when left empty) and description."""

    class Meta:
        model = Transformer
        fields = ["name", "identifier", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"identifier": "Letters, numbers and dashes; made from the name when left empty."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["identifier"].required = False

    def clean_identifier(self) -> str:
        identifier = self.cleaned_data.get("identifier", "").strip()
        if identifier:
            return identifier  # typed by the user: the model's unique check reports a clash
        name = self.cleaned_data.get("name") or self.data.get("name") or ""
        return derived_identifier(name, Transformer, "transformer", exclude_pk=self.instance.pk)


def json_error(text: str, exc: json.JSONDecodeError) -> str:
    return f"Not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}."


@dataclass
class FieldRow:
    field: Field
    raw: Any  # text for inputs, bool for checkboxes
    error: str = ""
    html_name: str = ""

    @property
    def is_long(self) -> bool:
        return self.field.type in ("object", "conditions", "keys", "steps")


@dataclass
class StepRow:
    index: int
    kind: Kind | None
    kind_key: str
    fields: list[FieldRow] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # settings problems from validate_steps

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def has_field_errors(self) -> bool:
        return any(f.error for f in self.fields)

    def as_step(self) -> dict[str, Any]:
        return {"kind": self.kind_key, "settings": self.settings}


def _to_raw(f: Field, value: Any) -> Any:
    """A setting's value as the text the form shows (always text a page can send, see json_policy)."""
    raw = _raw_text(f, value)
    return json_policy.sendable(raw) if isinstance(raw, str) else raw


def _raw_text(f: Field, value: Any) -> Any:
    if f.type == "bool":
        return bool(f.default if value is None else value)
    if value is None:
        value = f.default
        if value is None:
            return ""
    if f.type == "keys":
        return "\n".join(value) if isinstance(value, list) else str(value)
    if f.type in ("conditions", "steps") and isinstance(value, list) and value:
        # One condition a line reads like a table and stays short.
        return "[\n" + ",\n".join("  " + json_policy.for_display(c, indent=None) for c in value) + "\n]"
    if f.type in ("object", "conditions", "steps"):
        return json_policy.for_display(value)
    if f.type == "value":
        if isinstance(value, str):
            try:
                json.loads(value)
            except (ValueError, RecursionError):
                return value  # plain text shows as typed
            return json_policy.for_display(value)  # "5" stays a string: show the quotes
        return json_policy.for_display(value, indent=None)
    return str(value)


def _from_raw(f: Field, raw: Any) -> tuple[Any, str]:
    """(value, error) from what was posted; value None means 'not set'."""
    if f.type == "bool":
        return bool(raw), ""
    text = (raw or "").strip() if isinstance(raw, str) else ""
    if not text:
        return None, ""
    if f.type == "keys":
        return [k.strip() for line in text.splitlines() for k in line.split(",") if k.strip()], ""
    if f.type in ("object", "conditions", "steps"):
        try:
            value = json_policy.loads(text)
        except json.JSONDecodeError as exc:
            return None, json_error(text, exc)
        except json_policy.Unstorable as exc:
            return None, unstorable_message(exc)
        if f.type == "object" and not isinstance(value, dict):
            return None, 'Must be a JSON object, e.g. {"old": "new"}.'
        if f.type == "steps" and not isinstance(value, list):
            return None, 'Must be a JSON list of steps, e.g. [{"kind": "value_setter", "settings": {...}}].'
        if f.type == "conditions" and not isinstance(value, list):
            return None, 'Must be a JSON list, e.g. [{"key": "status", "op": "equals", "value": "open"}].'
        return value, ""
    if f.type == "value":
        if text in NOT_JSON_NUMBERS:
            return text, ""  # not JSON, so plain text like any other word
        try:
            return json_policy.loads(text), ""
        except json.JSONDecodeError:
            return text, ""  # plain text is a string value
        except json_policy.Unstorable as exc:
            return None, unstorable_message(exc)
    return text, ""


NOT_JSON_NUMBERS = ("NaN", "Infinity", "-Infinity")  # Python's json reads them; JSON has no such values


def _row(index: int, kind_key: str, raws: dict[str, Any], parse: bool) -> StepRow:
    kind = KINDS.get(kind_key)
    row = StepRow(index=index, kind=kind, kind_key=kind_key)
    if kind is None:
        row.errors = [f'Unknown kind "{kind_key}".']
        return row
    for f in kind.fields:
        fr = FieldRow(field=f, raw=raws.get(f.name, _to_raw(f, None)), html_name=f"{PREFIX}-{index}-{f.name}")
        if parse:
            value, fr.error = _from_raw(f, fr.raw)
            bad = json_policy.problem(value) if value is not None else None
            if bad:  # a NUL character in a key list, say: no database stores it the same way
                value, fr.error = None, unstorable_message(bad)
            if value is not None:
                row.settings[f.name] = value
        row.fields.append(fr)
    return row


def rows_from_steps(steps: list[dict[str, Any]]) -> list[StepRow]:
    """Editor rows for a saved chain."""
    rows = []
    for index, step in enumerate(steps or []):
        kind = KINDS.get(step.get("kind", ""))
        settings = step.get("settings") or {}
        raws = {f.name: _to_raw(f, settings.get(f.name)) for f in kind.fields} if kind else {}
        row = _row(index, step.get("kind", ""), raws, parse=False)
        row.settings = dict(settings)
        rows.append(row)
    _attach_errors(rows)
    return rows


def rows_from_post(data: Any) -> list[StepRow]:
    """Editor rows from posted fields, parsed; raw text kept for redisplay."""
    try:
        total = min(int(data.get(f"{PREFIX}-TOTAL", 0)), 200)
    except (TypeError, ValueError):
        total = 0
    rows = []
    for index in range(total):
        kind_key = data.get(f"{PREFIX}-{index}-kind", "")
        kind = KINDS.get(kind_key)
        raws: dict[str, Any] = {}
        if kind:
            for f in kind.fields:
                name = f"{PREFIX}-{index}-{f.name}"
                raws[f.name] = name in data if f.type == "bool" else data.get(name, "")
        rows.append(_row(index, kind_key, raws, parse=True))
    _attach_errors(rows)
    return rows


def _attach_errors(rows: list[StepRow]) -> None:
    _attach_unknown_variables(rows)
    for row in rows:
        if row.kind is None or row.has_field_errors:
            continue
        # validate_steps labels by position; validate one step at a time to keep errors on their row.
        row.errors = [e.split(": ", 1)[1] for e in validate_steps([row.as_step()])]


def _attach_unknown_variables(rows: list[StepRow]) -> None:
    """${NAME}s that Settings -> Environment variables does not define: an error on their field, so the
    chain is not saved (and the tester says it) instead of failing at run time."""
    if not any(variables.names_in(row.settings) for row in rows):
        return
    known = variables.values()
    for row in rows:
        for fr in row.fields:
            unknown = variables.missing(row.settings.get(fr.field.name), known)
            if unknown and not fr.error:
                listed = ", ".join("${" + name + "}" for name in sorted(unknown))
                fr.error = (f"Unknown environment variable {listed}: an Admin adds it under Settings -> "
                            "Environment variables (or correct the name).")


def new_row(index: int, kind_key: str) -> StepRow:
    kind = KINDS[kind_key]
    raws = {f.name: _to_raw(f, kind.example.get(f.name)) for f in kind.fields}
    return _row(index, kind_key, raws, parse=True)


def apply_op(rows: list[StepRow], op: str, new_kind: str) -> list[StepRow]:
    """Add, remove or move a step; returns renumbered rows (raw text kept)."""
    action, _, arg = op.partition(":")
    rows = list(rows)
    if action == "add" and new_kind in KINDS:
        rows.append(new_row(len(rows), new_kind))
    elif arg.isdigit() and int(arg) < len(rows):
        i = int(arg)
        if action == "remove":
            del rows[i]
        elif action == "up" and i > 0:
            rows[i - 1], rows[i] = rows[i], rows[i - 1]
        elif action == "down" and i < len(rows) - 1:
            rows[i], rows[i + 1] = rows[i + 1], rows[i]
    for index, row in enumerate(rows):
        row.index = index
        for fr in row.fields:
            fr.html_name = f"{PREFIX}-{index}-{fr.field.name}"
    return rows


def chain_problems(rows: list[StepRow]) -> list[str]:
    """Every problem in the edited chain, each naming its step."""
    problems = []
    for row in rows:
        label = f"Step {row.number} ({row.kind.label if row.kind else row.kind_key})"
        problems += [f'{label}: "{fr.field.label}": {fr.error}' for fr in row.fields if fr.error]
        problems += [f"{label}: {e}" for e in row.errors]
    return problems


def parse_input(text: str) -> tuple[list[dict[str, Any]] | None, str]:
    """The tester's input: one entity (an object) or a list of entities. Errors give line and column."""
    if not text.strip():
        return None, "Paste an entity as JSON, or load one from a task or an incoming's Run test."
    try:
        value = json_policy.loads(text)
    except json.JSONDecodeError as exc:
        return None, "The input is not valid JSON: " + json_error(text, exc)[len("Not valid JSON: "):]
    except json_policy.Unstorable as exc:
        return None, f"The input can't be used: it holds {exc}."
    if isinstance(value, dict):
        return [value], ""
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return value, ""
    return None, "The input must be a JSON object (one entity) or a list of objects."

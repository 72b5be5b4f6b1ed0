"""Transformer kinds: small, pure steps that shape entity data between systems.

A *step* is plain data: ``{"kind": "cast", "settings": {"key": "price", "to": "number"}}``. A saved
``Transformer`` holds an ordered list of steps. Every kind is a pure function
``(entity, settings) -> list[dict]``:

- ``[]`` means the entity was dropped (a filter did not keep it);
- one item is the usual case (the shaped entity);
- many items are branches ("get branches" splits a list into one entity per item).

The registry is the one explicit ``KINDS`` dict below; the UI renders each kind's settings form from
its ``fields`` and the chain runner looks kinds up there. Nothing registers itself on import.

Purity and speed
----------------
Steps never mutate their input. They copy on write: only the containers along the path a step writes
are shallow-copied, so an output shares its untouched sub-objects with its input. Callers must treat
entities as immutable (or deep-copy before mutating in place); everything in this module does.
This is what keeps a 6-step chain well above 50,000 entities/s on one core (see
``benchmarks/bench_transformers.py``), where a deepcopy per step would not.

Keys
----
Keys are dotted paths; a segment that is a whole number indexes a list: ``lines.0.sku``. A key that
is missing is handled as each step's ``on_missing`` setting says: ``error`` (default: a clear
``TransformError``), ``skip`` (the step leaves the entity as it is) or ``default`` (use the step's
``default`` value instead).

How the engine uses this (the engine implements that side)
---------------------------------------------------------
- Paging counts the *raw* records a page returned, before any transformer runs, so a filter that
  drops every record on a page never ends paging early (``Run.entities`` is the raw count).
- An entity whose chain returns ``[]`` was filtered out: the engine adds one to ``Run.filtered`` and
  creates no task for it.
- A chain that returns several entities (branches) makes one task per branch; the engine suffixes
  the task's dedupe key with the branch position so a re-run cannot duplicate them.
- Use :func:`compile_chain` (or :func:`compile_transformers`) once per run and call the result per
  entity; :func:`apply_chain` compiles on every call, which is fine for one entity (the tester page).
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from connections.models import Transformer

Entity = dict[str, Any]
StepFunction = Callable[[Entity], list[Entity]]

__all__ = [
    "KINDS",
    "Field",
    "Kind",
    "TransformError",
    "apply_chain",
    "apply_transformers",
    "compile_chain",
    "compile_transformers",
    "describe_step",
    "get_path",
    "render_template",
    "trace_chain",
    "validate_steps",
]


# --------------------------------------------------------------------------------------------- errors


class TransformError(Exception):
    """A step could not transform an entity (or a chain's settings are invalid).

    Attributes:
        step_index: 0-based position of the failing step in its chain (``None`` for a problem that
            is not tied to one step, e.g. steps that are not a list).
        step_label: human words for that step, e.g. ``step 2 (Cast)``.
        key: the dotted key the step was reading or writing, if any.
        detail: what went wrong and what to do, without the step prefix.
        transformer: the saved transformer's name when run through :func:`apply_transformers`.
    """

    def __init__(
        self,
        detail: str,
        *,
        step_index: int | None = None,
        step_label: str = "",
        key: str | None = None,
        transformer: str | None = None,
    ) -> None:
        self.detail = detail
        self.step_index = step_index
        self.step_label = step_label
        self.key = key
        self.transformer = transformer
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.transformer:
            where.append(f'Transformer "{self.transformer}"')
        if self.step_label:
            where.append(self.step_label if where else self.step_label[:1].upper() + self.step_label[1:])
        if self.key:
            where.append(f'key "{self.key}"')
        prefix = ", ".join(where)
        return f"{prefix}: {self.detail}" if prefix else self.detail

    def located(self, step_index: int, step_label: str) -> TransformError:
        """Return this error placed at a step (kinds raise without knowing their position)."""
        return TransformError(self.detail, step_index=step_index, step_label=step_label, key=self.key,
                              transformer=self.transformer)

    def in_transformer(self, name: str) -> TransformError:
        return TransformError(self.detail, step_index=self.step_index, step_label=self.step_label, key=self.key,
                              transformer=name)


class _Problem(Exception):
    """A key could not be read or written. Steps with on_missing skip/default absorb these."""

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(detail)
        self.key = key
        self.detail = detail


class _Missing(_Problem):
    pass


class _Conflict(_Problem):
    """A write goes through something that is not an object or list (e.g. ``a.b`` where a is 5)."""


def _fail(key: str | None, detail: str) -> TransformError:
    return TransformError(detail, key=key)


# ---------------------------------------------------------------------------------------------- paths

_MISSING = object()


@lru_cache(maxsize=4096)
def _parse(path: str) -> tuple[str, ...]:
    """Split a dotted key. Cached: a chain reads the same few keys millions of times."""
    return tuple(path.split("."))


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _index(seg: str) -> int | None:
    if seg.isdigit():
        return int(seg)
    return None


def _lookup(entity: Any, path: str) -> Any:
    """The value at a dotted path, or raise _Missing naming where the path stopped."""
    if "." not in path and type(entity) is dict:  # fast path for a top-level key
        value = entity.get(path, _MISSING)
        if value is not _MISSING:
            return value
    node = entity
    parts = _parse(path)
    for depth, seg in enumerate(parts):
        if type(node) is dict:
            value = node.get(seg, _MISSING)
            if value is _MISSING:
                where = ".".join(parts[:depth]) or "the entity"
                keys = ", ".join(sorted(map(str, node))[:12]) or "no keys"
                raise _Missing(path, f'"{seg}" is not in {where} (it has: {keys}).')
            node = value
        elif isinstance(node, list):
            idx = _index(seg)
            if idx is None:
                where = ".".join(parts[:depth])
                raise _Missing(path, f'"{where}" is a list; use a number to pick an item, not "{seg}".')
            if idx >= len(node):
                where = ".".join(parts[:depth])
                raise _Missing(path, f'"{where}" has {len(node)} item(s); there is no item {idx}.')
            node = node[idx]
        elif isinstance(node, dict):  # dict subclasses: slower path, same meaning
            if seg not in node:
                raise _Missing(path, f'"{seg}" is not in {".".join(parts[:depth]) or "the entity"}.')
            node = node[seg]
        else:
            where = ".".join(parts[:depth])
            raise _Missing(path, f'"{where}" holds {_type_name(node)}, so it has no "{seg}".')
    return node


def get_path(entity: Any, path: str, default: Any = _MISSING) -> Any:
    """Read a dotted key. Without ``default`` a missing key raises ``TransformError``."""
    try:
        return _lookup(entity, path)
    except _Missing as exc:
        if default is not _MISSING:
            return default
        raise _fail(path, exc.detail) from None


def _set_in(node: Any, parts: tuple[str, ...], i: int, value: Any, path: str) -> Any:
    """A copy of ``node`` with ``value`` at ``parts[i:]``; only the containers on the path are copied."""
    seg = parts[i]
    last = i == len(parts) - 1
    if isinstance(node, dict):
        new = dict(node)
        if last:
            new[seg] = value
        else:
            child = node.get(seg, _MISSING)
            if child is _MISSING or child is None:
                child = [] if _index(parts[i + 1]) == 0 else {}
            new[seg] = _set_in(child, parts, i + 1, value, path)
        return new
    if isinstance(node, list):
        idx = _index(seg)
        if idx is None or idx > len(node):
            where = ".".join(parts[:i])
            raise _Conflict(path, f'"{where}" is a list of {len(node)} item(s); write to an item number up to '
                                  f'{len(node)} (that number appends), not "{seg}".')
        new_list = list(node)
        if idx == len(node):
            new_list.append(None)
        if last:
            new_list[idx] = value
        else:
            child = new_list[idx]
            if child is None:
                child = [] if _index(parts[i + 1]) == 0 else {}
            new_list[idx] = _set_in(child, parts, i + 1, value, path)
        return new_list
    where = ".".join(parts[:i])
    raise _Conflict(path, f'"{where}" holds {_type_name(node)}, so "{seg}" cannot be written inside it. '
                          "Write to another key, or remove or overwrite that one first.")


def _set(entity: Entity, path: str, value: Any) -> Entity:
    if "." not in path and type(entity) is dict:  # the common top-level key: one shallow copy
        new = dict(entity)
        new[path] = value
        return new
    return _set_in(entity, _parse(path), 0, value, path)


def _delete(entity: Entity, path: str) -> Entity:
    """A copy without the key; raises _Missing when it is not there."""
    if "." not in path and type(entity) is dict and path in entity:
        new = dict(entity)
        del new[path]
        return new
    parts = _parse(path)

    def walk(node: Any, i: int) -> Any:
        seg = parts[i]
        last = i == len(parts) - 1
        if isinstance(node, dict):
            if seg not in node:
                raise _Missing(path, f'"{seg}" is not in {".".join(parts[:i]) or "the entity"}.')
            new = dict(node)
            if last:
                del new[seg]
            else:
                new[seg] = walk(node[seg], i + 1)
            return new
        if isinstance(node, list):
            idx = _index(seg)
            if idx is None or idx >= len(node):
                raise _Missing(path, f'"{".".join(parts[:i])}" has no item "{seg}".')
            new_list = list(node)
            if last:
                del new_list[idx]
            else:
                new_list[idx] = walk(node[idx], i + 1)
            return new_list
        raise _Missing(path, f'"{".".join(parts[:i])}" holds {_type_name(node)}, so it has no "{seg}".')

    return walk(entity, 0)


# ------------------------------------------------------------------------------------------ templates

_PLACEHOLDER = re.compile(r"&\{([^{}]+)\}")


def _compile_template(template: Any) -> Callable[[Entity], Any] | None:
    """A renderer for a value with ``&{key}`` placeholders, or None when it holds none.

    A string that is exactly one placeholder keeps the value's type (``&{id}`` -> 42, not "42");
    placeholders inside longer text are formatted as text (objects and lists as JSON). Objects and
    lists are rendered item by item, so a whole payload can be one template.
    """
    if isinstance(template, str):
        if "&{" not in template:
            return None
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            key = whole.group(1).strip()
            return lambda entity: _lookup(entity, key)
        pieces: list[str | tuple[str]] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(template):
            pieces.append(template[pos:m.start()])
            pieces.append((m.group(1).strip(),))
            pos = m.end()
        pieces.append(template[pos:])

        def render_text(entity: Entity) -> str:
            out = []
            for piece in pieces:
                if type(piece) is str:
                    out.append(piece)
                else:
                    out.append(_as_text(_lookup(entity, piece[0])))
            return "".join(out)

        return render_text
    if isinstance(template, dict):
        parts = {k: (_compile_template(v), v) for k, v in template.items()}
        if all(r is None for r, _ in parts.values()):
            return None
        return lambda entity: {k: (r(entity) if r else v) for k, (r, v) in parts.items()}
    if isinstance(template, list):
        items = [(_compile_template(v), v) for v in template]
        if all(r is None for r, _ in items):
            return None
        return lambda entity: [(r(entity) if r else v) for r, v in items]
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render_template(template: Any, entity: Entity) -> Any:
    """Render ``&{key}`` placeholders in a value against an entity (see _compile_template)."""
    renderer = _compile_template(template)
    if renderer is None:
        return template
    try:
        return renderer(entity)
    except _Problem as exc:
        raise _fail(exc.key, exc.detail) from None


def template_keys(template: Any) -> list[str]:
    """The keys a template's placeholders read, in order."""
    if isinstance(template, str):
        return [m.group(1).strip() for m in _PLACEHOLDER.finditer(template)]
    if isinstance(template, dict):
        return [k for v in template.values() for k in template_keys(v)]
    if isinstance(template, list):
        return [k for v in template for k in template_keys(v)]
    return []


# ------------------------------------------------------------------------------------- kind registry


@dataclass(frozen=True)
class Field:
    """One setting of a kind, as the settings form shows it.

    type is one of: ``key`` (a dotted path), ``keys`` (several paths, one a line), ``text``,
    ``value`` (JSON, or plain text when it is not JSON), ``object`` (a JSON object), ``conditions``
    (a JSON list of {key, op, value}), ``choice`` (one of ``choices``), ``bool``.
    """

    name: str
    label: str
    type: str
    help: str = ""
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    default: Any = None


@dataclass(frozen=True)
class Kind:
    """A transformer kind: a label, a settings schema, and a compiler.

    ``build(settings)`` returns a function ``entity -> list[entity]``; settings are parsed once there,
    so running a chain over many entities does not re-read them. ``check(settings)`` returns extra
    error strings beyond the schema (e.g. an operator that needs a list).
    """

    key: str
    label: str
    description: str
    fields: tuple[Field, ...]
    build: Callable[[Mapping[str, Any]], StepFunction]
    check: Callable[[Mapping[str, Any]], list[str]] | None = None
    example: dict[str, Any] = field(default_factory=dict)
    # A Kind is callable; templates must show it, not call it.
    do_not_call_in_templates: ClassVar[bool] = True

    def __call__(self, entity: Entity, settings: Mapping[str, Any]) -> list[Entity]:
        """The pure function ``(entity, settings) -> list[entity]``."""
        return self.build(settings)(entity)

    func = __call__


ON_MISSING_CHOICES = (("error", "Stop with an error"), ("skip", "Skip this step"), ("default", "Use the default"))


def _on_missing_fields(default: str = "error") -> tuple[Field, Field]:
    return (
        Field("on_missing", "When the key is missing", "choice", choices=ON_MISSING_CHOICES, default=default,
              help="Skip leaves the entity as it is; Use the default reads the default value instead."),
        Field("default", "Default", "value", help="Used when the key is missing and the choice above says so."),
    )


def _guard(settings: Mapping[str, Any]) -> Callable[[Callable[[Entity], list[Entity]]], StepFunction]:
    """Wrap a step body with the step's on_missing policy."""
    policy = settings.get("on_missing") or "error"

    def wrap(body: Callable[[Entity], list[Entity]]) -> StepFunction:
        if policy == "skip":
            def skipping(entity: Entity) -> list[Entity]:
                try:
                    return body(entity)
                except _Problem:
                    return [entity]
            return skipping

        def strict(entity: Entity) -> list[Entity]:
            try:
                return body(entity)
            except _Problem as exc:
                hint = (" Choose \"Skip this step\" or \"Use the default\" under \"When the key is missing\" if "
                        "some entities lack it.") if isinstance(exc, _Missing) else ""
                raise _fail(exc.key, exc.detail + hint) from None
        return strict

    return wrap


def _reader(settings: Mapping[str, Any], key: str) -> Callable[[Entity], Any]:
    """Read ``key``; with on_missing=default a missing key reads the default."""
    if settings.get("on_missing") == "default":
        fallback = settings.get("default")

        def read_or_default(entity: Entity) -> Any:
            try:
                return _lookup(entity, key)
            except _Missing:
                return fallback
        return read_or_default
    return lambda entity: _lookup(entity, key)


# --- value setter


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


# --- copy / move / remove


def _build_copy(settings: Mapping[str, Any]) -> StepFunction:
    source, target = settings["source"], settings["target"]
    read = _reader(settings, source)
    return _guard(settings)(lambda entity: [_set(entity, target, read(entity))])


def _build_move(settings: Mapping[str, Any]) -> StepFunction:
    source, target = settings["source"], settings["target"]
    read = _reader(settings, source)

    def move(entity: Entity) -> list[Entity]:
        value = read(entity)
        try:
            without = _delete(entity, source)
        except _Missing:
            without = entity  # the default was used: there is nothing to take away
        if source == target:
            return [entity]
        return [_set(without, target, value)]

    return _guard(settings)(move)


def _build_remove(settings: Mapping[str, Any]) -> StepFunction:
    keys = list(settings["keys"])

    def remove(entity: Entity) -> list[Entity]:
        for key in keys:
            entity = _delete(entity, key)
        return [entity]

    if (settings.get("on_missing") or "skip") == "skip":
        # Per key, so one absent key does not keep the others.
        def remove_present(entity: Entity) -> list[Entity]:
            for key in keys:
                try:
                    entity = _delete(entity, key)
                except _Problem:
                    pass
            return [entity]
        return remove_present
    return _guard(settings)(remove)


# --- key mapper / value mapper


def _build_key_mapper(settings: Mapping[str, Any]) -> StepFunction:
    base = settings.get("key") or ""
    mapping = dict(settings["mapping"])
    keep_unmapped = settings.get("keep_unmapped", True) is not False

    def rename(obj: Any) -> dict:
        if not isinstance(obj, dict):
            raise _Conflict(base or "(the entity)", f"holds {_type_name(obj)}; the key mapper renames the keys "
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
            raise _fail(key, f"holds {_type_name(value)}; the value mapper maps single values. "
                             "Point it at a text, number or boolean key.")
        found = mapping.get(_lookup_form(value), _MISSING)
        if found is _MISSING:
            if not has_default:
                return [_set(entity, key, value)] if settings.get("on_missing") == "default" else [entity]
            found = unmapped
        return [_set(entity, key, found)]

    return _guard(settings)(map_value)


# --- cast

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
        raise _fail(key, f"holds {_type_name(value)}, which cannot be cast to {target}.")
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
        raise _fail(key, f"holds {_type_name(value)}, which is not a date.")
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


# --- filter

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
    raise _fail(key, f"cannot compare {_type_name(left)} ({json.dumps(left)}) with {json.dumps(right)}; "
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
            raise _fail(key, f'holds {_type_name(value)}; "contains" needs a list or a text. Use "equals" '
                             "for single values.")
        if op in ("in", "not_in"):
            if not isinstance(expected, list):
                raise _fail(key, f'"{op}" needs a list of values in the condition, e.g. ["open", "paid"].')
            found = any(_same(value, item) for item in expected)
            return found if op == "in" else not found
        order = _compare(value, expected, key)
        return {"gt": order > 0, "gte": order >= 0, "lt": order < 0, "lte": order <= 0}[op]

    return test


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
    if settings.get("action", "keep") not in ("keep", "drop", None, ""):
        errors.append('"action" must be keep or drop.')
    return errors


# --- get branches


def _build_get_branches(settings: Mapping[str, Any]) -> StepFunction:
    key = settings["key"]
    keep = [k for k in settings.get("keep") or [] if k]
    parent_key = settings.get("parent_key") or ""
    item_key = settings.get("item_key") or "value"
    read = _reader(settings, key)

    def branches(entity: Entity) -> list[Entity]:
        items = read(entity)
        if items is None:
            items = []
        if not isinstance(items, list):
            raise _fail(key, f"holds {_type_name(items)}, not a list; get branches splits a list into one "
                             "entity per item. Point it at a list (e.g. \"lines\").")
        kept = {k: _lookup(entity, k) for k in keep}
        out = []
        for item in items:
            branch = dict(item) if isinstance(item, dict) else {item_key: item}
            for k, v in kept.items():
                branch = _set(branch, f"{parent_key}.{k}" if parent_key else k, v)
            out.append(branch)
        return out

    return _guard(settings)(branches)


# --- merge defaults


def _deep_merge(defaults: Any, data: Any) -> Any:
    """data wins; objects on both sides merge key by key. New containers only where something changes."""
    if not (isinstance(defaults, dict) and isinstance(data, dict)):
        return data
    merged = dict(data)
    for k, dv in defaults.items():
        if k not in data:
            merged[k] = dv
        elif isinstance(dv, dict) and isinstance(data[k], dict):
            merged[k] = _deep_merge(dv, data[k])
    return merged


def _build_merge_defaults(settings: Mapping[str, Any]) -> StepFunction:
    defaults = settings["defaults"]
    base = settings.get("key") or ""

    if not base:
        return _guard(settings)(lambda entity: [_deep_merge(defaults, entity)])

    def merge_at(entity: Entity) -> list[Entity]:
        try:
            current = _lookup(entity, base)
        except _Missing:
            current = {}
        if not isinstance(current, dict):
            raise _Conflict(base, f"holds {_type_name(current)}; defaults merge into an object.")
        return [_set(entity, base, _deep_merge(defaults, current))]

    return _guard(settings)(merge_at)


# --- the registry

KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in [
        Kind(
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
        ),
        Kind(
            "copy", "Copy key", "Copy a value to another key; the source stays.",
            (
                Field("source", "From key", "key", required=True),
                Field("target", "To key", "key", required=True),
                *_on_missing_fields(),
            ),
            _build_copy,
        ),
        Kind(
            "move", "Move key", "Rename a key: copy it to the new key and remove the old one.",
            (
                Field("source", "From key", "key", required=True),
                Field("target", "To key", "key", required=True),
                *_on_missing_fields(),
            ),
            _build_move,
        ),
        Kind(
            "remove", "Remove keys", "Remove keys from the entity.",
            (
                Field("keys", "Keys", "keys", required=True, help="One key a line."),
                Field("on_missing", "When a key is missing", "choice", choices=ON_MISSING_CHOICES[:2],
                      default="skip"),
            ),
            _build_remove,
        ),
        Kind(
            "key_mapper", "Key mapper", "Rename keys of an object with a table of old -> new names.",
            (
                Field("mapping", "Renames", "object", required=True, help='{"old name": "new name", ...}'),
                Field("key", "In object", "key", help="Leave empty for the entity itself."),
                Field("keep_unmapped", "Keep keys that are not in the table", "bool", default=True),
                *_on_missing_fields(),
            ),
            _build_key_mapper,
        ),
        Kind(
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
        ),
        Kind(
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
        ),
        Kind(
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
        ),
        Kind(
            "get_branches", "Get branches", "Split a list into separate entities, one per item, keeping "
            "chosen keys of the parent. Each branch becomes its own task.",
            (
                Field("key", "List key", "key", required=True, help="e.g. lines"),
                Field("keep", "Parent keys to keep", "keys", help="One key a line, e.g. id."),
                Field("parent_key", "Put parent keys under", "text",
                      help='e.g. "parent" gives parent.id; empty puts them at the top of each branch.'),
                Field("item_key", "Key for items that are not objects", "text", default="value"),
                *_on_missing_fields(),
            ),
            _build_get_branches,
        ),
        Kind(
            "merge_defaults", "Merge defaults", "Fill in keys the entity lacks, deeply; existing values win.",
            (
                Field("defaults", "Defaults", "object", required=True),
                Field("key", "Into object", "key", help="Leave empty for the entity itself."),
            ),
            _build_merge_defaults,
        ),
    ]
}


# --------------------------------------------------------------------------------------- validation

_TYPE_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "key": (lambda v: isinstance(v, str), "a key (text)"),
    "text": (lambda v: isinstance(v, str), "text"),
    "keys": (lambda v: isinstance(v, list) and all(isinstance(k, str) for k in v), "a list of keys"),
    "object": (lambda v: isinstance(v, dict), "a JSON object"),
    "conditions": (lambda v: isinstance(v, list), "a list of conditions"),
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
    """One line for lists: 'Cast price to number'."""
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
        compiled.append(CompiledStep(index, label, KINDS[step["kind"]].build(step.get("settings") or {})))
    return compiled


def _run(compiled: list[CompiledStep], entity: Entity, transformer: str | None = None) -> list[Entity]:
    if not isinstance(entity, dict):
        raise TransformError(f"The input must be a JSON object (an entity), not {_type_name(entity)}.",
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
            raise TransformError(f"The input must be a JSON object (an entity), not {_type_name(entity)}.")
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

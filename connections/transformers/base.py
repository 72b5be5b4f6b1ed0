"""What every kind is made of: its settings fields, the Kind record, and the on_missing policy."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .errors import _fail, _Missing, _Problem
from .paths import Entity, _lookup

StepFunction = Callable[[Entity], list[Entity]]


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
    suggest: str = ""  # "storages" or "clients": the editor offers the existing identifiers


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
    # False for kinds that reach outside the entity (storages, HTTP): they need a database or a platform.
    pure: bool = True
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

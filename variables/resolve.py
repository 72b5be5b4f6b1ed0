"""${NAME} in HTTP Client fields, request parameters and payloads, replaced by the variable's value at call time."""
from __future__ import annotations

import re
from typing import Any

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class UnknownVariable(ValueError):
    def __init__(self, names: set[str]):
        self.names = sorted(names)
        listed = ", ".join("${" + name + "}" for name in self.names)
        super().__init__(f"unknown environment variable {listed}: add it under Settings -> Environment variables")


def names_in(value: Any) -> set[str]:
    """Every ${NAME} used anywhere in a string, list or dict (keys included)."""
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(set(), *(names_in(k) | names_in(v) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return set().union(set(), *(names_in(v) for v in value))
    return set()


def values() -> dict[str, str]:
    from .models import Variable

    return {v.name: v.value for v in Variable.objects.all()}


def secret_values() -> list[str]:
    from .models import Variable

    return [v.value for v in Variable.objects.filter(secret=True) if v.value]


def missing(value: Any, known: dict[str, str] | None = None) -> set[str]:
    known = values() if known is None else known
    return names_in(value) - set(known)


def resolve(value: Any, known: dict[str, str] | None = None) -> Any:
    """A copy of `value` with every ${NAME} replaced; UnknownVariable names the ones not defined."""
    if not names_in(value):
        return value
    known = values() if known is None else known
    absent = names_in(value) - set(known)
    if absent:
        raise UnknownVariable(absent)
    return _replace(value, known)


def _replace(value: Any, known: dict[str, str]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: known[m.group(1)], value)
    if isinstance(value, dict):
        return {_replace(k, known): _replace(v, known) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace(v, known) for v in value]
    return value


def client_fields(client) -> tuple[dict, dict, str]:
    """An HTTP Client's settings and secrets with ${NAME} resolved, and the error when one is unknown."""
    settings, secrets = dict(client.settings or {}), dict(client.secrets or {})
    if not (names_in(settings) or names_in(secrets)):
        return settings, secrets, ""
    known = values()
    try:
        return resolve(settings, known), resolve(secrets, known), ""
    except UnknownVariable as exc:
        return settings, secrets, str(exc)


def sentence(exc: UnknownVariable) -> str:
    """The error as a form shows it: "Unknown environment variable ${X}: add it under ...". """
    text = str(exc)
    return text[:1].upper() + text[1:] + "."

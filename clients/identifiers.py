"""Identifiers: the unique, URL-safe slug every saved object is addressed by.

Alumio derives an identifier from the name you type and lets you edit it. The helpers here
are model-agnostic so Incoming/Outgoing configurations and Routes can reuse them.
"""
from __future__ import annotations

from django.db import models
from django.utils.text import slugify

# Path segments that sit next to `<identifier>/` in clients/urls.py; a client with one of
# these identifiers could never be opened, so they are refused.
RESERVED = frozenset({"new", "oauth", "logs", "create", "edit", "delete"})
MAX_LENGTH = 200


def base_identifier(name: str) -> str:
    """The slug of `name`, or "client" when nothing usable is left (e.g. a name of only emoji)."""
    slug = slugify(name)[:MAX_LENGTH].strip("-")
    return slug or "client"


def unique_identifier(
    name: str,
    model: type[models.Model],
    *,
    field: str = "identifier",
    exclude_pk: int | None = None,
    reserved: frozenset[str] = RESERVED,
) -> str:
    """A slug of `name` not yet used by `model` (suffixed -2, -3, ... when it is)."""
    base = base_identifier(name)
    taken_qs = model._default_manager.filter(**{f"{field}__startswith": base})
    if exclude_pk is not None:
        taken_qs = taken_qs.exclude(pk=exclude_pk)
    taken = set(taken_qs.values_list(field, flat=True)) | set(reserved)
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        suffix = f"-{n}"
        candidate = base[: MAX_LENGTH - len(suffix)] + suffix
    return candidate


def identifier_error(
    identifier: str,
    model: type[models.Model],
    *,
    field: str = "identifier",
    exclude_pk: int | None = None,
    reserved: frozenset[str] = RESERVED,
) -> str | None:
    """Why `identifier` cannot be used, or None when it can."""
    if identifier != slugify(identifier) or not identifier:
        return "Use only lower-case letters, digits and hyphens (e.g. picqer-production)."
    if identifier in reserved:
        return f"“{identifier}” is reserved; pick another identifier."
    qs = model._default_manager.filter(**{field: identifier})
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        return f"The identifier “{identifier}” is already used; pick another one."
    return None

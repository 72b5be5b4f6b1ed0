"""The shapes every platform is declared with: fields, entities, OAuth endpoints, auth and paging.

A platform is data (see picqer.py ... copper.py); code lives here and in clients.http only
where data cannot say it. Adding a sixth platform means one new module plus its catalog.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from ..entity_search import EntityIndex

CATALOG_DIR = Path(__file__).resolve().parent / "catalogs"


@dataclass(frozen=True)
class Field:
    """One setting of an HTTP Client, named exactly as Alumio's docs name it."""

    name: str  # key in HttpClient.settings / HttpClient.secrets, e.g. "api_key"
    label: str  # e.g. "API Key"
    secret: bool = False  # stored encrypted, write-only in forms, redacted everywhere
    required: bool = True
    default: str = ""
    help_text: str = ""
    kind: str = "text"  # text, url, choice
    choices: tuple[tuple[str, str], ...] = ()
    header_bound: bool = False  # sent in an HTTP header: must be ASCII without CR/LF
    # Only shown and required when another field has one of these values,
    # e.g. {"auth_type": ("oauth2",)} for Copper's OAuth fields.
    show_if: dict[str, tuple[str, ...]] | None = None
    # A URL field's path must match this (after any trailing slash), e.g. r"/api(/v[12])?" for
    # Pipedrive; `shape_hint` says what to type instead, e.g. "your company domain followed by /api".
    path_pattern: str | None = None
    shape_hint: str = ""

    def shape_error(self, value: str) -> str:
        """Why `value` is not the address this field wants ("" when it is, or nothing is checked)."""
        if not self.path_pattern or not value:
            return ""
        path = urlsplit(value.strip()).path.rstrip("/")
        if re.fullmatch(self.path_pattern, path):
            return ""
        return f"“{value.strip()}” is not a {self.label} this platform answers at: type {self.shape_hint}."


@dataclass(frozen=True)
class Entity:
    """One endpoint of a platform's API, as its reference names it."""

    key: str  # stable: "<METHOD> <path template>", unique within the platform
    name: str  # as the docs call it, e.g. "Get single customer"
    group: str  # the API's section, e.g. "Customers"
    method: str  # GET, POST, PUT, PATCH, DELETE
    path: str  # template relative to the base URI, e.g. "/customers/{idcustomer}"
    path_params: tuple[str, ...] = ()
    # {"name", "required", "type"}; dicts are unhashable, so hashing an Entity skips them.
    query_params: tuple[dict, ...] = field(default=(), hash=False)
    has_body: bool = False
    paginated: bool = False
    pagination: str | None = None  # name of a strategy in clients.pagination
    deprecated: bool = False
    replacement: str | None = None  # e.g. Pipedrive v1 -> "DELETE /activities/{id}" (v2)
    read_via_post: bool = False  # reads that use POST (Copper search, Timely reports)
    # What the body is sent as (clients.content_types): application/json, a form
    # (application/x-www-form-urlencoded) or multipart/form-data with files; None without a body.
    content_type: str | None = None
    # What the entity answers with: JSON, or a file (Pipedrive's "Download one file" answers
    # application/octet-stream), which is kept as {"file": {filename, content_type, base64}}.
    response_type: str = "application/json"
    # The body's top-level fields {"name", "required", "type"} as the reference lists them
    # (type "file" for a multipart file part), and the key Timely wraps a body in ({"client": {...}}).
    body_fields: tuple[dict, ...] = field(default=(), hash=False)
    body_wrapper: str | None = None
    # The platform's own OAuth authorize/token endpoints, listed in its reference: "Grant access"
    # uses them; they are not data entities, so the catalog keeps them out of every list.
    oauth_endpoint: bool = False
    extras: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def binary_response(self) -> bool:
        """True when the entity answers with a file rather than JSON."""
        return not _is_json_type(self.response_type)

    @property
    def is_read(self) -> bool:
        return self.method == "GET" or self.read_via_post

    @property
    def subscriber(self) -> bool:
        """Offered by the platform's Subscriber (incoming)."""
        return self.is_read

    @property
    def publisher(self) -> bool:
        """Offered by the platform's Publisher (outgoing)."""
        return not self.is_read


def _is_json_type(media_type: str) -> bool:
    kind = (media_type or "").split(";", 1)[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


@dataclass(frozen=True)
class OAuth:
    """Where a platform's OAuth 2.0 endpoints are; each can be overridden by a client field."""

    authorize_url: str
    token_url: str
    authorize_url_field: str = "authorize_url"
    token_url_field: str = "token_url"
    scopes_field: str | None = None
    default_scopes: tuple[str, ...] = ()
    pkce: bool = True  # send a PKCE S256 challenge and verifier (RFC 7636)
    # How the client authenticates at the token endpoint (RFC 6749 §2.3.1): "client_secret_post"
    # (client_id and client_secret in the form body) or "client_secret_basic" (HTTP Basic).
    token_endpoint_auth: str = "client_secret_post"
    callback_method: str = "GET"  # Copper calls back with a POST
    # Fields that must have these values for OAuth to apply (Copper: auth_type == oauth2).
    when: dict[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class RateLimit:
    """A platform's rate limit: its documented figure and the headers that say more, live.

    `limit` requests per `window` seconds is what the platform's docs give (None: no figure);
    the shared rate budget (clients.rate_budget) paces every worker to it, unless the HTTP
    Client sets its own requests per minute, and `limit_header` (the live figure per `window`)
    refines it. `source` says where the figure comes from, on the client's page.
    """

    limit: int | None = None
    window: float = 60.0  # seconds
    limit_header: str | None = None  # e.g. Picqer's X-RateLimit-Limit (requests per `window`)
    source: str = ""

    retry_after_header: str | None = "Retry-After"
    reset_header: str | None = None  # e.g. "X-RateLimit-Reset"
    reset_is_epoch: bool = False  # reset header holds a Unix time (else seconds to wait)
    remaining_header: str | None = None  # 0 here: the budget pauses everyone until the reset
    default_wait: float = 20.0  # seconds, when a 429 says nothing
    # Headers that read 0 once a daily budget is spent (Pipedrive). A 429 with one of them at 0
    # waits for the next UTC day: waiting out the short window would only earn more 429s.
    daily_budget_headers: tuple[str, ...] = ()

    @property
    def per_minute(self) -> float | None:
        """The documented limit in requests per minute (None when the platform documents none)."""
        return None if self.limit is None else self.limit * 60.0 / self.window


@dataclass(frozen=True)
class Platform:
    slug: str  # "picqer"
    label: str  # "Picqer"
    fields: tuple[Field, ...]
    auth: str  # a strategy in clients.auth.STRATEGIES: basic_key, pipedrive, connectwise, bearer, copper
    publisher_methods: tuple[str, ...] = ("POST", "PUT", "DELETE")
    method_first: bool = False  # Timely and Copper: the Method comes first and narrows entities
    oauth: OAuth | None = None
    rate_limit: RateLimit = RateLimit()
    default_pagination: str | None = None
    test_entity: str | None = None  # key of a cheap authenticated GET for "Test connection"
    # Further cheap GETs "Test connection" makes, so every API the catalog reaches answers at the
    # Base URI (Pipedrive: v2 beside v1). Only a 404 or a non-JSON answer fails them: a missing
    # OAuth scope (403) still proves the address right.
    reach_entities: tuple[str, ...] = ()
    default_headers: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    # Headers that depend on the HTTP Client's settings (Picqer's User-Agent contact); they
    # override default_headers. Extension point: a function of the client's settings.
    client_headers: Callable[[Mapping[str, str]], dict[str, str]] | None = field(
        default=None, hash=False, compare=False
    )

    def headers_for(self, settings: Mapping[str, str] | None) -> dict[str, str]:
        """The non-credential headers every request of a client with `settings` carries."""
        headers = dict(self.default_headers)
        if self.client_headers is not None:
            headers.update(self.client_headers(settings or {}))
        return headers

    @property
    def client_label(self) -> str:
        return f"{self.label} HTTP Client"

    @property
    def subscriber_label(self) -> str:
        return f"{self.label} Subscriber"

    @property
    def publisher_label(self) -> str:
        return f"{self.label} Publisher"

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def secret_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.secret)

    def uses_oauth(self, settings: dict) -> bool:
        """True when this client authenticates with OAuth tokens (Timely; Copper in OAuth mode)."""
        if self.oauth is None:
            return False
        return all(settings.get(k) in values for k, values in (self.oauth.when or {}).items())

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog.load(CATALOG_DIR / f"{self.slug}.json")


class UnknownEntity(LookupError):
    pass


class NotADataEntity(UnknownEntity):
    """The name or key is the platform's OAuth endpoint: Grant access uses it, nothing else may."""


class Catalog:
    """A platform's entities, loaded once from its generated JSON file."""

    def __init__(self, entities: list[Entity]):
        # OAuth endpoints stay known (for a clear error) but out of every list, search and get().
        self.oauth_endpoints = {e.key: e for e in entities if e.oauth_endpoint}
        entities = [e for e in entities if not e.oauth_endpoint]
        self.entities = entities
        self._by_key = {e.key: e for e in entities}
        self._by_name = {}
        for e in entities:
            # A name shared by a deprecated and a current entity (Pipedrive v1/v2) means the current one.
            known = self._by_name.get(e.name.lower())
            if known is None or (known.deprecated and not e.deprecated):
                self._by_name[e.name.lower()] = e

    @classmethod
    def load(cls, path: Path) -> Catalog:
        if not path.exists():
            return cls([])
        rows = json.loads(path.read_text())["entities"]
        entities = []
        for row in rows:
            row = dict(row)
            row["path_params"] = tuple(row.get("path_params", ()))
            row["query_params"] = tuple(row.get("query_params", ()))
            row["body_fields"] = tuple(row.get("body_fields", ()))
            entities.append(Entity(**row))
        return cls(entities)

    def get(self, key_or_name: str) -> Entity:
        """By stable key, or by name as the docs call it (case-insensitive)."""
        entity = self._by_key.get(key_or_name) or self._by_name.get(key_or_name.lower())
        if entity is None:
            oauth = self.oauth_endpoints.get(key_or_name) or next(
                (e for e in self.oauth_endpoints.values() if e.name.lower() == key_or_name.lower()), None
            )
            if oauth is not None:
                raise NotADataEntity(
                    f"{oauth.name!r} ({oauth.key}) is the platform's OAuth endpoint, not a data entity: "
                    "the HTTP Client's Grant access uses it"
                )
            raise UnknownEntity(f"unknown entity {key_or_name!r}")
        return entity

    def search(
        self,
        text: str = "",
        method: str | None = None,
        role: str | None = None,
        include_deprecated: bool = False,
        limit: int | None = None,
    ) -> list[Entity]:
        """Entities matching `text` by relevance over name, group, path and method, best first.

        Tolerates punctuation, "Group - Name" titles, small typos and extra words; see
        clients.entity_search. `role` is "subscriber" (reads, incl. reads via POST) or
        "publisher" (writes); `method` narrows to one HTTP method. Deprecated entities
        (Pipedrive v1) only when asked for; otherwise a match on one finds its replacement.
        """
        if role not in (None, "subscriber", "publisher"):
            raise ValueError(f"role must be 'subscriber' or 'publisher', not {role!r}")
        method = method.upper() if method else None
        want_read = {None: None, "subscriber": True, "publisher": False}[role]
        allowed = (
            (not method or e.method == method)
            and (include_deprecated or not e.deprecated)
            and (want_read is None or e.is_read is want_read)
            for e in self.entities
        )
        found = self._search_index.rank(text, allowed, include_deprecated=include_deprecated)
        return found[:limit] if limit is not None else found

    @cached_property
    def _search_index(self) -> EntityIndex:
        return EntityIndex(self.entities)

    def groups(self, include_deprecated: bool = False) -> dict[str, list[Entity]]:
        """Entities by the API's section, in catalog order (for <optgroup>s)."""
        out: dict[str, list[Entity]] = {}
        for e in self.entities:
            if e.deprecated and not include_deprecated:
                continue
            out.setdefault(e.group, []).append(e)
        return out

    def methods(self) -> list[str]:
        """The HTTP methods used in this catalog, in a fixed order."""
        used = {e.method for e in self.entities}
        return [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m in used]

    def __contains__(self, key: str) -> bool:
        return key in self._by_key

    def __len__(self) -> int:
        return len(self.entities)

    def __iter__(self):
        return iter(self.entities)

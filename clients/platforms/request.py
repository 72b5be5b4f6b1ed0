"""Build the HTTP request for one entity: URL from base URI + path template, query, body.

Pure: no I/O, no credentials (clients.auth adds those). Every problem with the caller's
parameters is a RequestBuildError raised before anything is sent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from .base import Entity, Platform

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_VERSION_SEGMENT = re.compile(r"^(v\d+|\d+\.\d+)$")
_SCALARS = (str, int, float, bool)


class RequestBuildError(ValueError):
    """The entity cannot be requested with these parameters."""


class MissingPathParameter(RequestBuildError):
    pass


class UnknownPathParameter(RequestBuildError):
    pass


class InvalidPathParameter(RequestBuildError):
    """A value that cannot be one path segment safely (empty, "." or "..", a list...)."""


class InvalidParameters(RequestBuildError):
    """`path`, `query` or `payload` has the wrong shape."""


class InvalidBaseUri(RequestBuildError):
    pass


@dataclass(frozen=True)
class BuiltRequest:
    method: str
    url: str
    params: dict = field(default_factory=dict)
    json: object | None = None  # the payload: sent as JSON, or encoded as `content_type` says
    content_type: str | None = None  # the entity's body type (clients.content_types); None: no body
    accept: str = "application/json"  # what the entity answers with


def unfilled_placeholders(base_uri: str) -> list[str]:
    """Placeholders such as {subdomain} left in a Base URI copied from a default."""
    return _PLACEHOLDER.findall(base_uri or "")


def check_base_uri(base_uri: str) -> str:
    """The base URI without a trailing slash, or InvalidBaseUri saying what is wrong."""
    if not isinstance(base_uri, str) or not base_uri.strip():
        raise InvalidBaseUri("the HTTP Client has no Base URI")
    base = base_uri.strip()
    left = unfilled_placeholders(base)
    if left:
        raise InvalidBaseUri(f"the Base URI still contains {', '.join('{' + p + '}' for p in left)}: fill in your own")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidBaseUri(f"the Base URI must start with https:// and name a host, got {base!r}")
    if parts.query or parts.fragment:
        raise InvalidBaseUri("the Base URI must not contain a query string or fragment")
    return base.rstrip("/")


def join_url(base: str, relative: str) -> str:
    """Base URI + entity path, forgiving a version the user already put in the Base URI.

    Timely's docs call https://api.timelyapp.com/1.1 "the base URL" and Pipedrive's docs
    show .../api/v1, while those catalogs carry the version in the entity path. When both
    name a version, the entity's wins, so "/1.1/1.1/..." or "/api/v1/v2/..." cannot happen.
    """
    first = relative.lstrip("/").split("/", 1)[0]
    head, _, last = base.rpartition("/")
    # urlsplit(head).netloc: never strip into the host name ("https://v1").
    if _VERSION_SEGMENT.match(first) and _VERSION_SEGMENT.match(last) and urlsplit(head).netloc:
        base = head
    return base + relative


def encode_segment(name: str, value: object, entity: Entity) -> str:
    """One path value as exactly one URL path segment.

    Everything outside RFC 3986's unreserved set is percent-encoded, "/" included, so "a/b" or
    "../admin" stays inside its segment. "." and ".." are refused outright: encoding them as
    %2E does not help, because requests decodes unreserved escapes again before sending.
    """
    if isinstance(value, bool) or not isinstance(value, _SCALARS):
        raise InvalidPathParameter(
            f"path parameter {name!r} of {entity.name!r} must be text or a number, not {type(value).__name__}"
        )
    text = str(value)
    if text.strip() == "":
        raise InvalidPathParameter(f"path parameter {name!r} of {entity.name!r} is empty")
    if text in (".", ".."):
        raise InvalidPathParameter(f"path parameter {name!r} of {entity.name!r} cannot be {text!r}")
    return quote(text, safe="")


def _check_query(query: object, entity: Entity) -> dict:
    if query is None:
        return {}
    if not isinstance(query, dict):
        raise InvalidParameters(f"query parameters of {entity.name!r} must be an object, not {type(query).__name__}")
    params = {}
    for key, value in query.items():
        if not isinstance(key, str) or not key:
            raise InvalidParameters(f"query parameter names of {entity.name!r} must be non-empty text")
        if value is None:
            continue  # an unset optional filter
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, _SCALARS) for v in items):
            raise InvalidParameters(
                f"query parameter {key!r} of {entity.name!r} must be text, a number or a list of them"
            )
        # requests would send True as "True"; APIs expect lower-case booleans.
        items = [str(v).lower() if isinstance(v, bool) else v for v in items]
        params[key] = items if isinstance(value, list) else items[0]
    return params


def build_request(
    platform: Platform | str,
    entity: Entity | str,
    base_uri: str,
    path: dict | None = None,
    query: dict | None = None,
    payload: object = None,
) -> BuiltRequest:
    """The request for `entity` on a client whose Base URI is `base_uri`.

    The base URI keeps its own path prefix (Picqer's /api/v1); the entity's path template is
    appended with each placeholder replaced by its value from `path`, encoded as one segment.
    """
    if isinstance(platform, str):
        from .registry import get_platform  # late: registry imports the platform modules

        platform = get_platform(platform)
    if isinstance(entity, str):
        entity = platform.catalog.get(entity)
    if path is None:
        path = {}
    if not isinstance(path, dict):
        raise InvalidParameters(f"path parameters of {entity.name!r} must be an object, not {type(path).__name__}")
    names = _PLACEHOLDER.findall(entity.path)
    unknown = sorted(str(k) for k in path if k not in names)
    if unknown:
        expected = ", ".join(names) or "none"
        raise UnknownPathParameter(
            f"{entity.name!r} has no path parameter {', '.join(unknown)} (expected: {expected})"
        )
    missing = [n for n in names if path.get(n) is None]
    if missing:
        raise MissingPathParameter(f"{entity.name!r} needs path parameter {', '.join(missing)} ({entity.path})")
    segments = {n: encode_segment(n, path[n], entity) for n in names}
    relative = _PLACEHOLDER.sub(lambda m: segments[m.group(1)], entity.path)
    params = _check_query(query, entity)

    # A few entities live on a fixed host (Pipedrive's OAuth endpoints).
    base = check_base_uri(entity.extras.get("base_url") or base_uri)
    body = payload
    if entity.method == "GET" and payload not in (None, {}, []):
        raise InvalidParameters(f"{entity.name!r} is a GET and takes no payload")
    if entity.method == "GET":
        body = None
    from clients import content_types  # late: it builds on this module's errors

    content_types.check_payload(entity, body)
    return BuiltRequest(
        method=entity.method,
        url=join_url(base, relative),
        params=params,
        json=body,
        content_type=entity.content_type or (content_types.JSON if body is not None else None),
        accept=content_types.accept_header(entity.response_type),
    )

"""The request an outgoing configuration sends for one entity: the engine and the preview share it.

Merge rule: the configuration's `query` and `payload` are the base and the entity's own
`query` / `payload` keys override them key by key; `path` comes from the entity data only.
`build_outgoing_request(outgoing, data)` returns the built request plus the headers it would
carry, credentials already redacted, so it is safe to show.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clients import auth as authlib
from clients import content_types, redaction
from clients.platforms import bodies
from clients.platforms.registry import get_platform
from clients.platforms.request import BuiltRequest, InvalidParameters, build_request
from variables import resolve as variables

from .models import Outgoing


@dataclass(frozen=True)
class OutgoingRequest:
    """What would go over the wire for one entity. `headers` are redacted; `auth_note` explains a gap."""

    request: BuiltRequest
    headers: dict[str, str] = field(default_factory=dict)
    auth_note: str = ""
    body_note: str = ""  # e.g. a Timely payload without its wrapper key

    @property
    def full_url(self) -> str:
        import requests

        return requests.Request(self.request.method, self.request.url, params=self.request.params).prepare().url or ""

    @property
    def body_text(self) -> str:
        return content_types.preview_text(self.request.content_type, self.request.json)


def merge_parts(outgoing: Outgoing, data: dict, *, resolve_variables: bool = False) -> tuple[dict, dict, Any]:
    """(path, query, payload) for `data` under the merge rule above.

    resolve_variables: the configuration's own query and payload get today's ${NAME} values before the
    entity's data is merged in (sending; the data's values are never resolved). Previews keep the names.
    """
    if not isinstance(data, dict):
        raise InvalidParameters("the entity data must be a JSON object with the keys “path”, “query” and “payload”")
    for key in ("path", "query"):
        if key in data and not isinstance(data[key], dict | type(None)):
            raise InvalidParameters(f"the entity's “{key}” must be an object")
    path = dict(data.get("path") or {})
    base_query, payload = outgoing.query or {}, outgoing.payload or {}
    if resolve_variables:
        base_query, payload = variables.resolve(base_query), variables.resolve(payload)
    query = {**base_query, **(data.get("query") or {})}
    entity_payload = data.get("payload")
    if isinstance(entity_payload, dict) and isinstance(payload, dict):
        payload = {**payload, **entity_payload}
    elif entity_payload is not None:
        payload = entity_payload  # a list or scalar payload replaces the base whole
    return path, query, payload


def build_outgoing_request(outgoing: Outgoing, data: dict) -> OutgoingRequest:
    """The request `outgoing` sends for entity `data`. Raises RequestBuildError (ValueError) on bad input."""
    platform = get_platform(outgoing.platform)
    entity = platform.catalog.get(outgoing.entity)
    path, query, payload = merge_parts(outgoing, data)
    client = outgoing.client
    built = build_request(
        platform,
        entity,
        (client.settings or {}).get("base_uri", ""),
        path=path,
        query=query,
        payload=payload if entity.method != "GET" else None,
    )
    headers: dict[str, str] = {"Accept": built.accept, **platform.headers_for(client.settings)}
    if built.json is not None:
        # A multipart body's boundary is chosen when it is sent.
        headers["Content-Type"] = built.content_type or content_types.JSON
    note = ""
    creds = authlib.Credentials(
        platform=platform,
        settings=client.settings or {},
        secrets=client.secrets or {},
        # A preview never refreshes or reveals a token; a placeholder shows where it goes.
        access_token=lambda: "preview-token" if client.tokens.get("access_token") else "",
    )
    try:
        headers.update(authlib.auth_headers(creds))
    except authlib.AuthError as exc:
        note = str(exc)
    secrets = client.secret_values() + list(creds.derived)
    return OutgoingRequest(request=built, headers=redaction.redact_headers(headers, secrets), auth_note=note,
                           body_note=bodies.wrapper_note(entity, built.json))

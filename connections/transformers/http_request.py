"""HTTP request: call an entity of an HTTP Client with parts templated from the entity; keep the answer.

The request goes through the one HTTP seam (clients.http.ClientSession), so it is logged, redacted,
retried and rate-limited like every other call. A failed request is a step error naming the
platform's answer. Identical GETs within one run (same client, entity and rendered parameters) are
sent once: the context's cache answers the repeats (see ``context.StepContext.http_cache``).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from . import context
from .base import Field, Kind, StepFunction, _guard
from .errors import _fail
from .paths import Entity, _set
from .templates import _compile_template

ON_EMPTY = (("keep", "Put null at the key"), ("drop", "Drop the entity"), ("error", "Stop with an error"))


def _renderer(value: Any):
    compiled = _compile_template(value)
    return compiled if compiled is not None else (lambda entity: value)


def _build(settings: Mapping[str, Any]) -> StepFunction:
    from clients import http
    from clients.platforms.request import RequestBuildError

    client_id, entity_key, target = settings["client"], settings["entity"], settings["target"]
    render_path = _renderer(settings.get("path") or {})
    render_query = _renderer(settings.get("query") or {})
    render_payload = _renderer(settings.get("payload")) if settings.get("payload") is not None else None
    select = jmespath.compile(settings["select"]) if settings.get("select") else None
    on_empty = settings.get("on_empty") or "keep"

    def request(entity: Entity) -> list[Entity]:
        ctx = context.current()
        if not ctx.live:
            raise _fail(None, "HTTP request steps call the platform only in live mode. Tick “Live: call "
                              "platforms” above the tester to run it against the client.")
        client = ctx.client(client_id)
        path, query = render_path(entity), render_query(entity)
        payload = render_payload(entity) if render_payload else None
        cache_key = (client.pk, entity_key, json.dumps([path, query, payload], sort_keys=True, default=str))
        if payload is None and cache_key in ctx.http_cache:
            ctx.http_hits += 1
            data = ctx.http_cache[cache_key]
        else:
            try:
                if context.is_active():
                    # The step's settings had their ${NAME}s resolved when the chain was built; what the
                    # entity's data filled in is sent as written (a "${X}" in data is never a variable).
                    response = ctx.session(client).call(entity_key, path, query, payload, step="HTTP request step",
                                                        resolve_variables=False)
                else:
                    with http.ClientSession(client) as session:
                        response = session.call(entity_key, path, query, payload, step="HTTP request step",
                                                resolve_variables=False)
            except http.PlatformError as exc:
                raise _fail(None, f"the request to “{client.name}” failed: {exc.describe()}") from None
            except RequestBuildError as exc:
                raise _fail(None, f"the request could not be built: {exc}") from None
            ctx.http_calls += 1
            data = response.data
            if payload is None and response.status < 300:  # only reads are cached; writes always go out
                ctx.http_cache[cache_key] = data
        value = select.search(data) if select is not None else data
        if value is None and on_empty != "keep":
            if on_empty == "drop":
                return []
            raise _fail(None, f"the answer has nothing at “{settings.get('select')}”.")
        return [_set(entity, target, value)]

    return _guard(settings)(request)


def _check(settings: Mapping[str, Any]) -> list[str]:
    errors = []
    if settings.get("select"):
        try:
            jmespath.compile(settings["select"])
        except JMESPathError as exc:
            errors.append(f'"Keep from the answer" is not a valid JMESPath expression: {exc}.')
    for name in ("path", "query"):
        if settings.get(name) is not None and not isinstance(settings.get(name), dict):
            errors.append(f'"{name}" must be a JSON object.')
    from clients.models import HttpClient

    client_id = settings.get("client")
    client = HttpClient.objects.filter(identifier=client_id).first() if isinstance(client_id, str) else None
    if client_id and client is None:
        errors.append(f'there is no HTTP Client "{client_id}".')
    elif client is not None and settings.get("entity"):
        from clients.platforms.registry import get_platform

        try:
            get_platform(client.platform).catalog.get(settings["entity"])
        except Exception:  # UnknownEntity and NotADataEntity both say the same to the user here
            errors.append(f'“{client.name}” ({client.platform}) has no entity "{settings["entity"]}"; use its key, '
                          "e.g. GET /v1/organizations/{id}.")
    return errors


KIND = Kind(
    "http_request", "HTTP request",
    "Call an entity of an HTTP Client with path, query and payload made from the entity, and put the answer "
    "(or a part of it) at a key. Identical GETs in one run are sent once.",
    (
        Field("client", "HTTP Client", "text", required=True, suggest="clients",
              help="The client's identifier, e.g. pipedrive-live."),
        Field("entity", "Entity", "text", required=True, help="The entity's key, e.g. GET /v1/organizations/search."),
        Field("path", "Path parameters", "object", help='e.g. {"id": "&{owner_id}"}'),
        Field("query", "Query", "object", help='e.g. {"term": "&{name}", "exact_match": "true"}'),
        Field("payload", "Payload", "value", help="For entities that take a body; placeholders read the entity."),
        Field("select", "Keep from the answer", "text",
              help="A JMESPath expression, e.g. data.items[0].item.id; empty keeps the whole answer."),
        Field("target", "Put it at", "key", required=True, help="e.g. lookup.id"),
        Field("on_empty", "When the answer has nothing there", "choice", choices=ON_EMPTY, default="keep"),
    ),
    _build,
    check=_check,
    pure=False,
    example={"query": {}, "target": "response"},
)

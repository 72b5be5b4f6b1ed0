"""Read any OpenAPI 3 document into catalog rows: name from summary, group from tag.

Used by ``build_catalogs --openapi``; a platform that publishes a spec needs no hand-made list.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .importers import entity_key

METHODS = ("get", "post", "put", "patch", "delete")
# Query parameters whose presence on a GET says "this list pages", and the style they imply.
PAGING_PARAMS = {
    "cursor": "cursor",
    "start": "offset",
    "offset": "offset",
    "page": "page",
    "page_number": "page",
    "pageId": "page",
}
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class OpenAPIError(ValueError):
    """The document is not an OpenAPI 3 document we can read."""


def load_document(path: Path) -> dict:
    """Parse a YAML or JSON OpenAPI file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise OpenAPIError(f"cannot read {path}: {exc.strerror}") from None
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise OpenAPIError(f"{path} is not valid JSON: {exc}") from None
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise OpenAPIError(f"{path} is not valid YAML: {exc}") from None


def _resolve(doc: dict, obj: dict) -> dict:
    """Follow a local $ref (#/components/...) once or more."""
    seen = 0
    while isinstance(obj, dict) and "$ref" in obj and seen < 10:
        ref = obj["$ref"]
        if not ref.startswith("#/"):
            raise OpenAPIError(f"only local $refs are supported, got {ref!r}")
        target = doc
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
        obj = target
        seen += 1
    return obj if isinstance(obj, dict) else {}


def _param_type(doc: dict, param: dict) -> str:
    schema = _resolve(doc, param.get("schema") or {})
    return str(schema.get("type") or "string")


def entities_from_openapi(
    doc: dict, path_prefix: str = "", strategies: dict[str, str] | None = None
) -> list[dict]:
    """One catalog row per operation, in the document's order.

    A GET with a paging query parameter (cursor, start, offset, page...) is guessed to be a
    paged list; `strategies` maps the guessed style ("offset", "cursor", "page") to the
    platform's pagination strategy name, e.g. {"offset": "pipedrive_start"}.
    """
    if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3"):
        raise OpenAPIError("not an OpenAPI 3 document (no 'openapi: 3.x' field)")
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        raise OpenAPIError("the document has no 'paths' object")
    prefix = "/" + path_prefix.strip("/") if path_prefix.strip("/") else ""
    rows = []
    for raw_path, item in paths.items():
        item = _resolve(doc, item)
        shared = [_resolve(doc, p) for p in item.get("parameters") or ()]
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = {(p.get("in"), p.get("name")): p for p in shared}
            for q in op.get("parameters") or ():
                p = _resolve(doc, q)
                params[(p.get("in"), p.get("name"))] = p  # an operation's own parameter wins
            query = [
                {"name": str(p["name"]), "required": bool(p.get("required")), "type": _param_type(doc, p)}
                for (where, _), p in params.items()
                if where == "query" and p.get("name")
            ]
            # An operation (or its path) may name its own server (Pipedrive's OAuth endpoints live on
            # oauth.pipedrive.com): it is called there, by its plain path, not under the prefix.
            server = _own_server(op, item)
            path = raw_path if server else prefix + raw_path
            style = None
            if method == "get":
                style = next((PAGING_PARAMS[q["name"]] for q in query if q["name"] in PAGING_PARAMS), None)
            tags = op.get("tags") or ["Other"]
            extras = {"operation_id": op["operationId"]} if op.get("operationId") else {}
            if "x-token-cost" in op:
                extras["token_cost"] = op["x-token-cost"]
            if style:
                extras["paging_style"] = style
            if server:
                extras["base_url"] = server
            content_type, fields = _request_body(doc, op)
            rows.append({
                "key": entity_key(method, path),
                "name": str(op.get("summary") or op.get("operationId") or entity_key(method, path)).strip(),
                "group": str(tags[0]),
                "method": method.upper(),
                "path": path,
                "path_params": _PLACEHOLDER.findall(path),
                "query_params": query,
                "has_body": "requestBody" in op,
                "paginated": style is not None,
                "pagination": (strategies or {}).get(style) if style else None,
                "deprecated": bool(op.get("deprecated")),
                "replacement": None,
                "read_via_post": False,
                "content_type": content_type,
                "response_type": _response_type(doc, op),
                "body_fields": fields,
                "body_wrapper": None,
                "oauth_endpoint": False,
                "extras": extras,
            })
    return rows


def _own_server(op: dict, item: dict) -> str:
    """The first server an operation (else its path item) declares, without a trailing slash."""
    for holder in (op, item):
        servers = holder.get("servers")
        if isinstance(servers, list) and servers and isinstance(servers[0], dict) and servers[0].get("url"):
            return str(servers[0]["url"]).rstrip("/")
    return ""


def _request_body(doc: dict, op: dict) -> tuple[str | None, list[dict]]:
    """The body's media type (the first the document lists) and its top-level fields."""
    from .importers import body_fields

    if "requestBody" not in op:
        return None, []
    content = _resolve(doc, op["requestBody"]).get("content") or {}
    if not content:
        return "application/json", []
    media_type = next(iter(content))
    schema = _resolve(doc, (content[media_type] or {}).get("schema") or {})
    properties: dict = {}
    required: set = set(schema.get("required") or ())
    for part in [schema, *(_resolve(doc, s) for s in schema.get("allOf") or ())]:
        properties.update(part.get("properties") or {})
        required.update(part.get("required") or ())
    fields = []
    for name, prop in properties.items():
        prop = _resolve(doc, prop)
        fields.append({"name": name, "required": name in required, "type": prop.get("type") or "",
                       "format": prop.get("format")})
    return str(media_type), body_fields(fields)


def _response_type(doc: dict, op: dict) -> str:
    """JSON unless the success answer is only ever something else (a file download)."""
    responses = op.get("responses") or {}
    for code in sorted(str(c) for c in responses):
        if code.startswith("2"):
            content = _resolve(doc, responses.get(code) or responses.get(int(code)) or {}).get("content") or {}
            if content and not any("json" in t for t in content):
                return str(next(iter(content)))
            return "application/json"
    return "application/json"

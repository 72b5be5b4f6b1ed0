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
            path = prefix + raw_path
            style = None
            if method == "get":
                style = next((PAGING_PARAMS[q["name"]] for q in query if q["name"] in PAGING_PARAMS), None)
            tags = op.get("tags") or ["Other"]
            extras = {"operation_id": op["operationId"]} if op.get("operationId") else {}
            if "x-token-cost" in op:
                extras["token_cost"] = op["x-token-cost"]
            if style:
                extras["paging_style"] = style
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
                "extras": extras,
            })
    return rows

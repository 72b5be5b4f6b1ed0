"""Turn the reference entity lists in sources/ into catalog rows (the Catalog.load format).

One function per platform, because each reference file has its own extras and quirks; the
shared work (keys, disambiguation, row shape) lives in helpers here. Run through
``manage.py build_catalogs``; the output in catalogs/ is generated, never edited by hand.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

SOURCES_DIR = Path(__file__).resolve().parent / "sources"

ROW_FIELDS = (
    "key", "name", "group", "method", "path", "path_params", "query_params", "has_body",
    "paginated", "pagination", "deprecated", "replacement", "read_via_post",
    "content_type", "response_type", "body_fields", "body_wrapper", "oauth_endpoint", "extras",
)
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
OCTET_STREAM = "application/octet-stream"
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class SourceError(ValueError):
    """A reference file is missing or does not have the expected shape."""


def entity_key(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def row(entry: dict, **overrides) -> dict:
    """A catalog row from a reference entry, with the fields every reference file shares."""
    method = str(entry["method"]).upper()
    path = str(entry["path"])
    out = {
        "key": entity_key(method, path),
        "name": str(entry["name"]).strip(),
        "group": str(entry.get("group") or "Other"),
        "method": method,
        "path": path,
        # The template is the truth for path parameters; the reference list only orders them.
        "path_params": list(_PLACEHOLDER.findall(path)),
        "query_params": [_query_param(q) for q in entry.get("query_params") or ()],
        "has_body": bool(entry.get("has_body")),
        "paginated": bool(entry.get("paginated")),
        "pagination": None,
        "deprecated": bool(entry.get("deprecated")),
        "replacement": None,
        "read_via_post": bool(entry.get("read_via_post")),
        # Reference lists say JSON unless they name another type (body_content_types, content_type).
        "content_type": _request_type(entry),
        "response_type": OCTET_STREAM if entry.get("binary_response") else JSON,
        "body_fields": body_fields(entry.get("body_fields") or entry.get("body_params")),
        "body_wrapper": entry.get("body_wrapper_key") or None,
        "oauth_endpoint": False,
        "extras": {},
    }
    out.update(overrides)
    if out["path"] != path:
        out["path_params"] = list(_PLACEHOLDER.findall(out["path"]))
        out["key"] = entity_key(method, out["path"])
    return out


def _request_type(entry: dict) -> str | None:
    if not entry.get("has_body"):
        return None
    named = entry.get("body_content_types") or [entry.get("content_type") or JSON]
    return str(named[0])


def body_fields(fields: object) -> list[dict]:
    """{"name", "required", "type"} per top-level body field, required ones first (stable).

    A binary string (OpenAPI's `format: binary`) is a file part of a multipart body: type "file".
    """
    if not isinstance(fields, list):
        return []
    out = []
    for f in fields:
        if not isinstance(f, dict) or not f.get("name"):
            continue
        kind = "file" if f.get("format") == "binary" else str(f.get("type") or "")
        out.append({"name": str(f["name"]), "required": bool(f.get("required")), "type": kind})
    return sorted(out, key=lambda f: not f["required"])


def mark_oauth_endpoints(slug: str, rows: list[dict]) -> list[dict]:
    """Flag the rows that are the platform's own OAuth authorize/token endpoints (not data entities)."""
    from .registry import PLATFORMS

    oauth = PLATFORMS[slug].oauth
    if oauth is None:
        return rows
    paths = {urlsplit(u).path.rstrip("/") for u in (oauth.authorize_url, oauth.token_url)}
    for r in rows:
        if r["path"].rstrip("/") in paths:
            r["oauth_endpoint"] = True
    return rows


def _query_param(q: dict) -> dict:
    return {"name": str(q["name"]), "required": bool(q.get("required")), "type": str(q.get("type") or "string")}


def _extras(entry: dict, names: Iterable[str]) -> dict:
    return {n: entry[n] for n in names if entry.get(n) not in (None, [], {}, "")}


def disambiguate(rows: list[dict]) -> list[dict]:
    """Make keys unique: when several entries share "<METHOD> <path>" (Timely's bulk events share
    one POST), the shortest name keeps the plain key and the others get " [<name>]" appended."""
    by_key: dict[str, list[dict]] = {}
    for r in rows:
        by_key.setdefault(r["key"], []).append(r)
    for same in by_key.values():
        if len(same) > 1:
            for r in sorted(same, key=lambda r: len(r["name"]))[1:]:
                r["key"] = f"{r['key']} [{r['name']}]"
    keys = [r["key"] for r in rows]
    if len(keys) != len(set(keys)):
        raise SourceError("duplicate keys remain after disambiguation")
    return rows


def load_list(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SourceError(f"{path} not found") from None
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path} is not valid JSON: {exc}") from None
    if isinstance(data, dict):
        data = data.get("entities")
    if not isinstance(data, list):
        raise SourceError(f"{path} must hold a list of entities")
    for i, entry in enumerate(data):
        missing = [k for k in ("name", "method", "path") if not isinstance(entry, dict) or k not in entry]
        if missing:
            raise SourceError(f"{path} entry {i} lacks {', '.join(missing)}")
    return data


def fingerprint(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for p in paths:
        digest.update(p.read_bytes())
    return digest.hexdigest()[:16]


# --- one function per platform -------------------------------------------------------------


# Picqer's old purchase-order receipts (phased out in 2026) and their new Receipts counterparts.
PICQER_REPLACEMENTS = {
    "GET /purchaseorders/{idpurchaseorder}/receipts": "GET /receipts",
    "GET /purchaseorders/{idpurchaseorder}/receipts/{idreceipt}": "GET /receipts/{idreceipt}",
}


def picqer(src: Path) -> list[dict]:
    rows = []
    for e in load_list(src / "entities.json"):
        r = row(e, extras=_extras(e, ("name_source", "paginated_confirmed")))
        if r["paginated"]:
            r["pagination"] = "offset100"
        rows.append(r)
    keys = {r["key"] for r in rows}
    for r in rows:
        replacement = PICQER_REPLACEMENTS.get(r["key"])
        if r["deprecated"] and replacement in keys:
            r["replacement"] = replacement
    return rows


PIPEDRIVE_PAGINATION = {"offset": "pipedrive_start", "cursor": "pipedrive_cursor"}
_PIPEDRIVE_EXTRAS = ("operation_id", "api_version", "token_cost", "oauth_scopes")


def _pipedrive_row(e: dict, version: str) -> dict:
    extras = _extras(e, _PIPEDRIVE_EXTRAS)
    if e.get("base_url_override"):
        # OAuth endpoints live on oauth.pipedrive.com, without a version prefix.
        extras["base_url"] = e["base_url_override"]
        path = e["path"]
    else:
        path = f"/{version}{e['path']}"
    if e.get("in_current_spec") is False:
        extras["in_current_spec"] = False
    r = row(e, path=path, extras=extras)
    r["pagination"] = PIPEDRIVE_PAGINATION.get(e.get("pagination") or "")
    r["paginated"] = r["pagination"] is not None
    return r


def _pipedrive_replacement(e: dict, v2_keys: set[str], v1_current: set[str]) -> str | None:
    """Map the reference's v2_replacement text onto a catalog key (a v2 entity where one exists)."""
    text = (e.get("v2_replacement") or "").strip()
    if not text:
        return None
    m = re.match(r"^(GET|POST|PUT|PATCH|DELETE) (/[^?\s]*)", text)
    if m:
        key = entity_key(m.group(1), "/v2" + m.group(2))
        return key if key in v2_keys else None
    if e["method"] == "DELETE" and "bulk" in text.lower():
        # A removed bulk delete: delete one item at a time, in v2 if that resource moved there
        # (activity types did not, so theirs is the current v1 single DELETE).
        for key in (entity_key("DELETE", f"/v2{e['path']}/{{id}}"), entity_key("DELETE", f"/v1{e['path']}/{{id}}")):
            if key in v2_keys or key in v1_current:
                return key
    return None


def pipedrive(src: Path) -> list[dict]:
    v2 = [_pipedrive_row(e, "v2") for e in load_list(src / "entities_v2.json")]
    v2_keys = {r["key"] for r in v2}
    entries = load_list(src / "entities.json")
    v1 = [_pipedrive_row(e, "v1") for e in entries]
    v1_current = {r["key"] for r, e in zip(v1, entries, strict=True) if not e.get("deprecated")}
    for r, e in zip(v1, entries, strict=True):
        r["replacement"] = _pipedrive_replacement(e, v2_keys, v1_current)
        if r["replacement"] or e.get("in_current_spec") is False:
            r["deprecated"] = True
    # v2 first: it is the API Pipedrive wants used, so a name both versions share means v2.
    return v2 + v1


def connectwise(src: Path) -> list[dict]:
    rows = []
    for e in load_list(src / "entities.json"):
        r = row(e, extras=_extras(e, ("operation_id", "body_schema", "response_schema")))
        if r["paginated"]:
            r["pagination"] = "connectwise_page"
        if _connectwise_file(e):
            r["response_type"] = OCTET_STREAM
        rows.append(r)
    return rows


def _connectwise_file(e: dict) -> bool:
    """Downloads and images: the SDK returns the raw file (os.File) or, for a GET, the raw
    http.Response, because the body is not JSON (elsewhere http.Response means "no body")."""
    schema = e.get("response_schema")
    return schema == "os.File" or (schema == "http.Response" and e["method"] == "GET")


TIMELY_PAGINATION = {
    "page/per_page": "timely_page",
    # Checked before "offset/limit": Filter reports pages inside its POST body.
    "offset/limit/page in JSON body": "timely_body_offset",
    "offset/limit": "timely_offset",
}


def timely(src: Path) -> list[dict]:
    rows = []
    for e in load_list(src / "entities.json"):
        r = row(e, extras=_extras(e, ("note",)))
        style = str(e.get("pagination") or "")
        if r["paginated"]:
            r["pagination"] = next((v for k, v in TIMELY_PAGINATION.items() if style.startswith(k)), None)
            if r["pagination"] is None:
                # A style no strategy follows: read it as one request, keep the reference's words.
                r["paginated"] = False
                r["extras"]["paging_style"] = style
        rows.append(r)
    return rows


# Reference entries whose read_via_post flag is wrong: creating an activity writes.
_COPPER_NOT_READS = {("POST", "/activities")}


def copper(src: Path) -> list[dict]:
    rows = []
    for e in load_list(src / "entities.json"):
        r = row(e, extras=_extras(e, ("doc_title", "note")))
        if not r["body_fields"] and e.get("body_example_keys"):
            # Only an example body is documented: its keys, without types or required flags.
            r["body_fields"] = [{"name": k, "required": False, "type": ""} for k in e["body_example_keys"]]
        if e.get("search"):
            r["read_via_post"] = True
            r["paginated"] = True
            r["pagination"] = "copper_search"
            r["extras"]["search"] = True
        if (r["method"], r["path"]) in _COPPER_NOT_READS:
            r["read_via_post"] = False
        rows.append(r)
    return rows


# For `build_catalogs --openapi`: which strategy each guessed paging style means per platform.
OPENAPI_PAGINATION: dict[str, dict[str, str]] = {
    "picqer": {"offset": "offset100"},
    "pipedrive": PIPEDRIVE_PAGINATION,
    "connectwise": {"page": "connectwise_page"},
    "timely": {"page": "timely_page", "offset": "timely_offset"},
    "copper": {},
}

IMPORTERS: dict[str, Callable[[Path], list[dict]]] = {
    "picqer": picqer,
    "pipedrive": pipedrive,
    "connectwise": connectwise,
    "timely": timely,
    "copper": copper,
}


def build_catalog(slug: str, source_root: Path = SOURCES_DIR) -> dict:
    """The catalog document for one platform, from source_root/<slug>/."""
    src = source_root / slug
    if not src.is_dir():
        raise SourceError(f"no reference folder {src}")
    rows = disambiguate(mark_oauth_endpoints(slug, IMPORTERS[slug](src)))
    files = sorted(src.glob("*.json"))
    return {
        "platform": slug,
        "generated_from": {
            "files": [f"{slug}/{p.name}" for p in files],
            "sha256": fingerprint(files),
        },
        "entities": rows,
    }


def write_catalog(doc: dict, path: Path) -> None:
    """One entity per line: small diffs when a reference changes, still plain JSON."""
    lines = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in doc["entities"]]
    head = json.dumps({k: v for k, v in doc.items() if k != "entities"}, ensure_ascii=False)[:-1]
    body = ",\n".join(lines)
    path.write_text(f'{head}, "entities": [\n{body}\n]}}\n')

"""Request and response media types as Pipedrive's official OpenAPI documents declare them.

The fake Pipedrive (tests/fakes/platforms.py) enforces them the way a spec-validating server
(Prism) does: a body in another Content-Type gets 415, an Accept that rules out what the
operation answers with gets 406. The table is written from the documents here, on purpose
not read from the project's catalog, so a wrong catalog fails against it.
"""
from __future__ import annotations

import re
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
OCTET_STREAM = "application/octet-stream"

# (method, path under the Base URI) -> the only body media type the operation takes.
PIPEDRIVE_BODIES: list[tuple[str, re.Pattern, str]] = [
    (m, re.compile(p), t)
    for m, p, t in (
        ("POST", r"/v1/files", MULTIPART),
        ("POST", r"/v1/persons/[^/]+/picture", MULTIPART),
        ("POST", r"/v1/callLogs/[^/]+/recordings", MULTIPART),
        ("POST", r"/v2/products/[^/]+/images", MULTIPART),
        ("PUT", r"/v2/products/[^/]+/images", MULTIPART),
        ("POST", r"/v1/files/remote", FORM),
        ("POST", r"/v1/files/remoteLink", FORM),
        ("PUT", r"/v1/files/[^/]+", FORM),
        ("PUT", r"/v1/mailbox/mailThreads/[^/]+", FORM),
    )
]
# Operations that answer with something other than JSON.
PIPEDRIVE_ANSWERS: list[tuple[str, re.Pattern, str]] = [
    ("GET", re.compile(r"/v1/files/(?P<id>[^/]+)/download"), OCTET_STREAM),
]


def _lookup(table, method: str, path: str) -> tuple[str | None, re.Match | None]:
    for m, pattern, kind in table:
        match = pattern.fullmatch(path)
        if m == method and match:
            return kind, match
    return None, None


def body_type(method: str, path: str) -> str:
    return _lookup(PIPEDRIVE_BODIES, method, path)[0] or JSON


def answer_type(method: str, path: str) -> tuple[str, re.Match | None]:
    kind, match = _lookup(PIPEDRIVE_ANSWERS, method, path)
    return kind or JSON, match


def bare(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def accepts(accept: str | None, media_type: str) -> bool:
    """Whether an Accept header allows `media_type` (no header allows anything)."""
    if not accept:
        return True
    major = media_type.split("/", 1)[0]
    for item in accept.split(","):
        kind, *params = [p.strip() for p in item.split(";")]
        q = next((p.split("=", 1)[1] for p in params if p.startswith("q=")), "1")
        try:
            if float(q) <= 0:
                continue
        except ValueError:
            continue
        if kind.lower() in ("*/*", f"{major}/*", media_type):
            return True
    return False


def parse_body(content_type: str | None, raw: bytes) -> Any:
    """A form as a dict; multipart as {name: text, or {"filename", "content_type", "content"}}."""
    kind = bare(content_type)
    if kind == FORM:
        return dict(parse_qsl(raw.decode(), keep_blank_values=True))
    if kind == MULTIPART:
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        out: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            content = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is not None:
                out[name] = {"filename": filename, "content_type": part.get_content_type(), "content": content}
            else:
                out[name] = content.decode()
        return out
    return None

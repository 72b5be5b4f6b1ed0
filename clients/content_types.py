"""Bodies in the media type an entity takes, and answers that are files rather than JSON.

The catalog says what each entity takes (`Entity.content_type`) and answers with
(`Entity.response_type`); clients.http sends and reads through the helpers here:

- JSON bodies go out as they always did (requests' `json=`);
- a form (application/x-www-form-urlencoded) is an object of text, numbers, booleans or lists
  of them, one field each;
- multipart/form-data takes the same fields plus files. A file is given in the data as
  ``{"filename": "a.pdf", "content_type": "application/pdf", "base64": "JVBERi0..."}``, or as
  ``{"url": "https://..."}`` (fetched when the request is sent, never with the platform's
  credentials); both are capped at HTTP_MAX_FILE_BYTES;
- a file answer (application/octet-stream, image/*, a PDF...) becomes one entity
  ``{"file": {"filename", "content_type", "size", "base64"}}``: the shape a multipart upload takes,
  so a downloaded file can go straight on to the next step.

Request logs get a summary of a multipart body (names, file names, sizes), never its bytes.
"""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from django.conf import settings

from .platforms.request import InvalidParameters

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
OCTET_STREAM = "application/octet-stream"
ANY = "*/*"

_SCALARS = (str, int, float, bool)
# Answers that are text for people or machines, never a file to keep: shown as "not JSON".
_TEXT_TYPES = ("text/", "application/xml", "application/xhtml")


class BodyError(InvalidParameters):
    """The payload cannot be sent in the entity's content type; the message says what to change."""


class FileTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class FilePart:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class EncodedBody:
    """A body ready to send: its Content-Type header (with the multipart boundary) and bytes."""

    content_type: str
    data: bytes
    summary: str  # what a request log shows instead of the bytes


def max_file_bytes() -> int:
    return int(getattr(settings, "HTTP_MAX_FILE_BYTES", 10_000_000))


def media_type(header: str | None) -> str:
    """The bare media type of a Content-Type header: "application/json; charset=utf-8" -> "application/json"."""
    return (header or "").split(";", 1)[0].strip().lower()


def is_json(header: str | None) -> bool:
    kind = media_type(header)
    return kind == JSON or kind.endswith("+json")


def accept_header(response_type: str) -> str:
    """What to ask for: JSON entities ask for JSON; a file entity names its type but takes any."""
    if is_json(response_type):
        return JSON
    return f"{response_type}, {ANY};q=0.8" if response_type and response_type != ANY else ANY


def looks_like_file(header: str | None) -> bool:
    """An answer that is a file whatever the catalog expected (a PDF, an image, bytes)."""
    kind = media_type(header)
    return bool(kind) and not is_json(kind) and not kind.startswith(_TEXT_TYPES)


# --------------------------------------------------------------------------- checking


def is_file_value(value: Any) -> bool:
    return isinstance(value, dict) and ("base64" in value or "url" in value)


def check_payload(entity, payload: Any) -> None:
    """Refuse, before anything is sent, a payload the entity's content type cannot carry."""
    kind = entity.content_type
    if kind not in (FORM, MULTIPART) or payload in (None, {}):
        return
    where = f"{entity.name!r} takes {'a form' if kind == FORM else 'multipart/form-data'}"
    if not isinstance(payload, dict):
        raise BodyError(f"{where}: the payload must be an object of fields, not {type(payload).__name__}")
    files = {f["name"] for f in entity.body_fields if f.get("type") == "file"}
    for name, value in payload.items():
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if kind == MULTIPART and is_file_value(item):
                _check_file(name, item)
            elif name in files:
                raise BodyError(
                    f"{where}: “{name}” is a file; give it as {{\"filename\": ..., \"content_type\": ..., "
                    f"\"base64\": ...}} or {{\"url\": \"https://...\"}}"
                )
            elif not isinstance(item, _SCALARS):
                raise BodyError(
                    f"{where}: field “{name}” must be text, a number, a boolean or a list of them, "
                    f"not {type(item).__name__}"
                )


def _check_file(name: str, value: dict) -> None:
    if "url" in value:
        url = value["url"]
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise BodyError(f"file “{name}”: “url” must be an http(s) address, got {url!r}")
        return
    if not isinstance(value.get("base64"), str):
        raise BodyError(f"file “{name}”: “base64” must be the file's content as base64 text")
    for key in ("filename", "content_type"):
        if key in value and not isinstance(value[key], str):
            raise BodyError(f"file “{name}”: “{key}” must be text")


# --------------------------------------------------------------------------- encoding


def encode(
    content_type: str | None, payload: Any, fetch: Callable[[str], FilePart] | None = None
) -> EncodedBody | None:
    """The body for a form or multipart entity; None for JSON (sent as before) or no payload."""
    if content_type not in (FORM, MULTIPART) or payload in (None, {}):
        return None
    fields = [(name, value) for name, value in payload.items() if value is not None]
    if content_type == FORM:
        pairs = [(name, _text(item)) for name, value in fields for item in _items(value)]
        text = urlencode(pairs)
        return EncodedBody(FORM, text.encode(), text)
    from urllib3.filepost import encode_multipart_formdata

    parts: list[tuple[str, Any]] = []
    described = []
    for name, value in fields:
        for item in _items(value):
            if is_file_value(item):
                part = _file_part(name, item, fetch)
                parts.append((name, (part.filename, part.content, part.content_type)))
                described.append(f"{name}={part.filename} ({part.content_type}, {len(part.content)} bytes)")
            else:
                parts.append((name, _text(item)))
                described.append(f"{name}={_text(item)}")
    data, header = encode_multipart_formdata(parts)
    return EncodedBody(header, data, f"multipart/form-data: {'; '.join(described)}")


def _items(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    # Forms have no booleans; send them the way query strings carry them.
    return str(value).lower() if isinstance(value, bool) else str(value)


def _file_part(name: str, value: dict, fetch: Callable[[str], FilePart] | None) -> FilePart:
    limit = max_file_bytes()
    if "url" in value:
        if fetch is None:
            raise BodyError(f"file “{name}” is given by URL, which only a real request fetches")
        fetched = fetch(value["url"])
        return FilePart(
            filename=value.get("filename") or fetched.filename,
            content_type=value.get("content_type") or fetched.content_type,
            content=fetched.content,
        )
    text = value["base64"]
    if len(text) * 3 // 4 > limit + 3:
        raise BodyError(f"file “{name}” is larger than {limit} bytes (HTTP_MAX_FILE_BYTES)")
    try:
        content = base64.b64decode(re.sub(r"\s+", "", text), validate=True)
    except (binascii.Error, ValueError):
        raise BodyError(f"file “{name}”: “base64” is not valid base64") from None
    return FilePart(
        filename=value.get("filename") or name,
        content_type=value.get("content_type") or OCTET_STREAM,
        content=content,
    )


def preview_text(content_type: str | None, payload: Any) -> str:
    """The body as a preview shows it, without fetching a file given by URL."""
    import json

    if payload is None:
        return ""
    if content_type not in (FORM, MULTIPART):
        return json.dumps(payload, indent=2, ensure_ascii=False)
    if content_type == FORM:
        return encode(FORM, payload).summary if payload else ""
    lines = []
    for name, value in payload.items():
        for item in _items(value) if value is not None else []:
            if is_file_value(item) and "url" in item:
                lines.append(f"{name}: the file at {item['url']} (fetched when the request is sent)")
            elif is_file_value(item):
                part = _file_part(name, item, None)
                lines.append(f"{name}: file {part.filename} ({part.content_type}, {len(part.content)} bytes)")
            else:
                lines.append(f"{name}: {_text(item)}")
    return "\n".join(lines)


def log_text(body: Any) -> str:
    """A request body as a request log shows it."""
    import json

    if body is None:
        return ""
    if isinstance(body, EncodedBody):
        return body.summary
    return json.dumps(body)


# --------------------------------------------------------------------------- file answers


def filename_from(headers: Mapping[str, str], url: str) -> str:
    """The name a file answer gives itself (Content-Disposition), else the URL's last segment."""
    disposition = headers.get("Content-Disposition") or ""
    if disposition:
        message = Message()
        message["Content-Disposition"] = disposition
        name = message.get_filename()
        if name:
            return name.replace("/", "_").replace("\\", "_")
    last = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    return last or "download"


def file_entity(headers: Mapping[str, str], body: bytes, url: str) -> dict:
    """A file answer as the entity handed to the next step."""
    limit = max_file_bytes()
    if len(body) > limit:
        raise FileTooLarge(f"the file is {len(body)} bytes, more than HTTP_MAX_FILE_BYTES ({limit})")
    return {
        "file": {
            "filename": filename_from(headers, url),
            "content_type": media_type(headers.get("Content-Type")) or OCTET_STREAM,
            "size": len(body),
            "base64": base64.b64encode(body).decode("ascii"),
        }
    }


def describe_file_answer(headers: Mapping[str, str], body: bytes) -> str:
    """What a request log keeps of a file answer: its type and size, not its bytes."""
    kind = media_type(headers.get("Content-Type")) or OCTET_STREAM
    return f"(a file: {kind}, {len(body)} bytes)"


def file_of(data: Any) -> dict | None:
    """The {"filename", "content_type", "base64"} a piece of entity data carries, if any."""
    if isinstance(data, dict):
        inner = data.get("file")
        if is_file_value(inner) and "base64" in inner:
            return inner
    return None


def decode_file(file: dict) -> FilePart:
    """A file value back to bytes (for a download link)."""
    return FilePart(
        filename=str(file.get("filename") or "download"),
        content_type=str(file.get("content_type") or OCTET_STREAM),
        content=base64.b64decode(str(file.get("base64") or "")),
    )

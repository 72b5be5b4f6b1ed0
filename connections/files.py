"""Files inside entity data: found for a Download link, shortened for display.

A file answer (clients.content_types) reaches the next step as
``{"file": {"filename", "content_type", "size", "base64"}}``; transformers may move it, so any
object with a text "base64" next to a "filename" or "content_type" counts as a file, wherever
it sits. Pages show the data with each base64 shortened and offer the file as a download.
"""
from __future__ import annotations

import binascii
import io
from typing import Any

from django.http import FileResponse, Http404

from clients import content_types

# Kinds a browser could run or render as a page if served inline: always sent as plain bytes.
_UNSAFE_INLINE = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml")


def is_file(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("base64"), str)
        and ("filename" in value or "content_type" in value)
    )


def files_in(data: Any) -> list[dict]:
    """Every file in `data`, depth first, in a stable order (the index of a Download link)."""
    found: list[dict] = []

    def walk(value: Any) -> None:
        if is_file(value):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return found


def for_display(data: Any) -> Any:
    """`data` with every file's base64 replaced by a note (the file itself is a Download link)."""
    if is_file(data):
        size = data.get("size")
        if not isinstance(size, int):
            size = len(data["base64"]) * 3 // 4
        return {**data, "base64": f"({size} bytes; use Download)"}
    if isinstance(data, dict):
        return {key: for_display(value) for key, value in data.items()}
    if isinstance(data, list):
        return [for_display(item) for item in data]
    return data


def describe(file: dict) -> str:
    """"report.pdf (application/pdf, 1234 bytes)" for a link's text."""
    size = file.get("size")
    size_text = f", {size} bytes" if isinstance(size, int) else ""
    return f"{file.get('filename') or 'download'} ({file.get('content_type') or content_types.OCTET_STREAM}{size_text})"


def download(data: Any, index: int) -> FileResponse:
    """The `index`-th file in `data` as an attachment; 404 when there is none or it is not base64."""
    files = files_in(data)
    if not 0 <= index < len(files):
        raise Http404("no such file")
    try:
        part = content_types.decode_file(files[index])
    except (binascii.Error, ValueError):
        raise Http404("the file's base64 is damaged") from None
    kind = part.content_type if content_types.media_type(part.content_type) not in _UNSAFE_INLINE else None
    return FileResponse(
        io.BytesIO(part.content), as_attachment=True, filename=part.filename,
        content_type=kind or content_types.OCTET_STREAM,
    )

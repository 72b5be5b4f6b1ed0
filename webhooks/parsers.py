"""The Webhook subscriber's body parsers: raw request bytes -> data -> entities.

An Incoming configuration whose Subscriber is "Webhook subscriber" (platform WEBHOOK) keeps
its parser settings in Incoming.parser: {"format": "json" | "form" | "csv" | "xml",
"path": "data" (where the entities are; "" = the whole body), "delimiter": ","}.

XML goes through defusedxml with DTDs forbidden, so entity expansion ("billion laughs") and
external entities are refused before anything is expanded.
"""
from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import parse_qsl

from connections import json_policy

WEBHOOK = "webhook"  # Incoming.platform of a Webhook subscriber
WEBHOOK_LABEL = "Webhook subscriber"
FORMATS = {"json": "JSON", "form": "Form (URL-encoded)", "csv": "CSV", "xml": "XML"}
DEFAULT_PARSER = {"format": "json", "path": "", "delimiter": ","}


class ParseError(ValueError):
    """The body cannot be read as the configured format; the message says where."""


def parser_settings(stored: dict | None) -> dict:
    return {**DEFAULT_PARSER, **{k: v for k, v in (stored or {}).items() if k in DEFAULT_PARSER}}


def settings_errors(settings: dict) -> dict[str, str]:
    """Field -> problem, for the Incoming form."""
    errors = {}
    if settings.get("format") not in FORMATS:
        errors["parser_format"] = "Choose a body format."
    if settings.get("format") == "csv" and len(settings.get("delimiter") or ",") != 1:
        errors["parser_delimiter"] = "The delimiter is one character, e.g. , or ;"
    path = settings.get("path") or ""
    if any(part == "" for part in path.split(".")) and path:
        errors["parser_path"] = "A path is keys separated by dots, e.g. data or events.*"
    return errors


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"the body is not UTF-8 text (byte {exc.start})") from None


def parse_body(body: bytes, settings: dict) -> Any:
    """The body as data (dict/list); ParseError says what is wrong."""
    fmt = settings.get("format", "json")
    if fmt == "json":
        try:
            return json_policy.loads(_text(body))
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        except json_policy.Unstorable as exc:  # NaN, 1e309, "\ud800", 5,000 levels: the same policy as runs
            raise ParseError(f"the JSON holds {exc}") from None
    if fmt == "form":
        data: dict[str, Any] = {}
        for key, value in parse_qsl(_text(body), keep_blank_values=True):
            if key in data:  # a repeated key becomes a list, as PHP-style senders mean it
                data[key] = (data[key] if isinstance(data[key], list) else [data[key]]) + [value]
            else:
                data[key] = value
        return data
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(_text(body)), delimiter=settings.get("delimiter") or ",")
        try:
            return [dict(row) for row in reader]
        except csv.Error as exc:
            raise ParseError(f"invalid CSV at line {reader.line_num}: {exc}") from None
    if fmt == "xml":
        return _parse_xml(body)
    raise ParseError(f"unknown body format {fmt!r}")


def _parse_xml(body: bytes) -> dict:
    from xml.etree.ElementTree import ParseError as XMLSyntaxError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ParseError(f"refused XML: {exc.__class__.__name__} (DTDs and entities are not accepted)") from None
    except XMLSyntaxError as exc:
        raise ParseError(f"invalid XML: {exc}") from None
    return {_local(root.tag): _element(root)}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]  # drop an XML namespace: {urn:x}order -> order


def _element(element) -> Any:
    """An element as JSON-like data: attributes as @name, repeated children as lists, text as #text."""
    node: dict[str, Any] = {f"@{_local(k)}": v for k, v in element.attrib.items()}
    children = list(element)
    for child in children:
        key, value = _local(child.tag), _element(child)
        if key in node:
            node[key] = (node[key] if isinstance(node[key], list) else [node[key]]) + [value]
        else:
            node[key] = value
    text = (element.text or "").strip()
    if not node:
        return text
    if text:
        node["#text"] = text
    return node


def items_at(data: Any, path: str) -> list:
    """The entities at a dotted path: "" the whole body, "data", "events.*" (every element), "a.0".

    A list found at the end of the path is its items; anything else is one entity.
    """
    nodes = [data]
    for part in [p for p in (path or "").split(".") if p]:
        next_nodes = []
        for node in nodes:
            if part == "*":
                if isinstance(node, list):
                    next_nodes.extend(node)
                elif isinstance(node, dict):
                    next_nodes.extend(node.values())
                else:
                    raise ParseError(f"“{path}”: * needs a list or an object, found {type(node).__name__}")
            elif isinstance(node, dict) and part in node:
                next_nodes.append(node[part])
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                next_nodes.append(node[int(part)])
            else:
                raise ParseError(f"the body has no “{part}” at “{path}”")
        nodes = next_nodes
    items: list = []
    for node in nodes:
        if isinstance(node, list):
            items.extend(node)
        elif node is not None:
            items.append(node)
    return items

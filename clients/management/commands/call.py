"""`manage.py call CLIENT ENTITY`: one request (or every page) through a saved HTTP Client.

    manage.py call my-picqer "Get single customer" --path idcustomer=89338142
    manage.py call my-picqer "GET /customers" --query sincedate="2024-01-01 00:00:00" --all-pages
    manage.py call my-copper "POST /companies" --payload '{"name": "Demo Company"}'

Prints the JSON response (a downloaded file as {"file": {..., "base64"}}, or saved with
--output FILE); with --all-pages one JSON array of every record, written page by
page so memory stays bounded. Errors go to stderr with a non-zero exit status.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clients import content_types
from clients.http import ClientSession, PlatformError
from clients.models import HttpClient
from clients.platforms.base import UnknownEntity
from clients.platforms.registry import UnknownPlatform
from clients.platforms.request import RequestBuildError


def _pairs(values: list[str] | None, option: str) -> dict[str, Any]:
    """`k=v` arguments as a dict; a key given twice becomes a list (e.g. repeated filters)."""
    out: dict[str, Any] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"{option} expects key=value, got {item!r}")
        if key in out:
            out[key] = (out[key] if isinstance(out[key], list) else [out[key]]) + [value]
        else:
            out[key] = value
    return out


def _payload(text: str | None) -> Any:
    if text is None:
        return None
    source = "--payload"
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text()
        except OSError as exc:
            raise CommandError(f"--payload file {path} cannot be read: {exc.strerror}") from None
        source = str(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None


class Command(BaseCommand):
    help = "Call one entity of a platform through a saved HTTP Client and print the JSON response."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client", help="the HTTP Client's identifier")
        parser.add_argument("entity", help='the entity\'s name as the docs call it, or its key ("GET /customers")')
        parser.add_argument("--path", action="append", metavar="KEY=VALUE", help="a path parameter (repeatable)")
        parser.add_argument("--query", action="append", metavar="KEY=VALUE", help="a query parameter (repeatable)")
        parser.add_argument("--payload", metavar="JSON", help="the request body as JSON, or @file.json")
        parser.add_argument("--method", help="pick the entity with this method when a name or path has several")
        parser.add_argument("--all-pages", action="store_true", help="follow pagination; print one array of records")
        parser.add_argument("--page-cap", type=int, help="stop with an error after this many pages")
        parser.add_argument("--output", metavar="FILE", help="when the answer is a file (a download), save it here")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client = HttpClient.objects.get(identifier=options["client"])
        except HttpClient.DoesNotExist:
            known = list(HttpClient.objects.order_by("identifier").values_list("identifier", flat=True)[:20])
            hint = f"; known: {', '.join(known)}" if known else "; none is saved yet"
            raise CommandError(f"no HTTP Client with identifier {options['client']!r}{hint}") from None

        path = _pairs(options["path"], "--path")
        query = _pairs(options["query"], "--query")
        payload = _payload(options["payload"])
        verbose = options["verbosity"] >= 2
        on_exchange = self._print_exchange if verbose else None
        try:
            with ClientSession(client, on_exchange=on_exchange) as session:
                entity = session.entity(options["entity"], options["method"])
                if options["all_pages"]:
                    self._all_pages(session, entity, path, query, payload, options["page_cap"])
                else:
                    response = session.call(entity, path=path, query=query, payload=payload)
                    file = content_types.file_of(response.data)
                    if file and options["output"]:
                        part = content_types.decode_file(file)
                        Path(options["output"]).write_bytes(part.content)
                        self.stderr.write(f"saved {part.filename} ({part.content_type}, {len(part.content)} bytes) "
                                          f"to {options['output']}")
                        return
                    self.stdout.write(json.dumps(response.data, indent=2, ensure_ascii=False))
        except (UnknownEntity, UnknownPlatform, RequestBuildError, PlatformError) as exc:
            raise CommandError(str(exc)) from None

    def _all_pages(self, session: ClientSession, entity, path, query, payload, page_cap) -> None:
        # Written as it arrives, so a million records never sit in memory at once.
        out = self.stdout
        pages = records = 0
        out.write("[", ending="")
        try:
            for page in session.paginate(entity, path=path, query=query, payload=payload, page_cap=page_cap):
                pages += 1
                for record in page.records:
                    out.write(("\n" if records == 0 else ",\n") + json.dumps(record, ensure_ascii=False), ending="")
                    records += 1
        finally:
            out.write("\n]" if records else "]")
            out.flush()
        self.stderr.write(f"{records} records in {pages} page{'s' if pages != 1 else ''}")

    def _print_exchange(self, exchange: dict) -> None:
        status = exchange["status"] if exchange["status"] is not None else "no response"
        line = f"{exchange['method']} {exchange['url']} -> {status} ({exchange['duration_ms']} ms)"
        if exchange["error"]:
            line += f": {exchange['error']}"
        self.stderr.write(line)

"""Helpers for the configuration tests: saved HTTP Clients, transformers and configurations."""

from __future__ import annotations

import json

import pytest

from clients.models import HttpClient
from connections import run_test
from connections.models import Incoming, Outgoing, Transformer


@pytest.fixture
def inline_run_test(monkeypatch):
    """Run tests inline in the request, so they work inside the test's transaction."""
    monkeypatch.setattr(run_test, "BACKGROUND", False)


def make_client(platform: str, identifier: str | None = None, **fields) -> HttpClient:
    """A saved HTTP Client that is never called (for form and page tests)."""
    defaults = {
        "name": f"{platform.title()} main",
        "identifier": identifier or f"{platform}-main",
        "platform": platform,
        "settings": {"base_uri": f"https://{platform}.example.com"},
        "secrets": {"api_key": f"{platform}-secret-value-123"},
    }
    defaults.update(fields)
    return HttpClient.objects.create(**defaults)


def make_incoming(client: HttpClient, entity: str, params: dict | None = None, **fields) -> Incoming:
    from clients.platforms.registry import get_platform

    found = get_platform(client.platform).catalog.get(entity)
    defaults = {
        "name": found.name,
        "identifier": fields.pop("identifier", None) or f"in-{Incoming.objects.count() + 1}",
        "platform": client.platform,
        "method": found.method,
        "entity": found.key,
        "client": client,
        "request_parameters": params or {},
    }
    defaults.update(fields)
    return Incoming.objects.create(**defaults)


def make_outgoing(client: HttpClient, entity: str, **fields) -> Outgoing:
    from clients.platforms.registry import get_platform

    found = get_platform(client.platform).catalog.get(entity)
    defaults = {
        "name": found.name,
        "identifier": fields.pop("identifier", None) or f"out-{Outgoing.objects.count() + 1}",
        "platform": client.platform,
        "method": found.method,
        "entity": found.key,
        "client": client,
    }
    defaults.update(fields)
    return Outgoing.objects.create(**defaults)


def make_transformer(name: str, steps: list) -> Transformer:
    return Transformer.objects.create(name=name, identifier=name.lower().replace(" ", "-"), steps=steps)


def incoming_post(http_client: HttpClient, entity_key: str, params: dict | str | None = None, **extra) -> dict:
    """Form data for Connections -> Incoming as the page posts it."""
    data = {
        "name": "Customers from Picqer",
        "identifier": "",
        "description": "",
        "platform": http_client.platform,
        "method": "",
        "entity": entity_key,
        "client": str(http_client.pk),
        "request_parameters": params if isinstance(params, str) else json.dumps(params or {}),
    }
    data.update(extra)
    return data

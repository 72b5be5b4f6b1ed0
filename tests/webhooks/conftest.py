"""A Webhook subscriber incoming, a route to a fake Pipedrive (the destination), and webhooks with presets."""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from connections.models import Incoming, Outgoing, Route, RouteTransformer, Transformer
from tests.fakes.platforms import FakePipedrive
from webhooks import presets
from webhooks.models import Webhook
from webhooks.validators import signature

SECRET = "whsec-7f3a9c1e5b2d8f4a6c0e"  # what the test "types" into the webhook form
TO_PERSON = [{"kind": "copy", "settings": {"source": "name", "target": "payload.name"}}]


@dataclass
class Pipeline:
    incoming: Incoming
    outgoing: Outgoing
    route: Route
    destination: FakePipedrive


def build_pipeline(destination: FakePipedrive, *, name: str = "hook", path: str = "data", fmt: str = "json",
                   realtime: bool = True) -> Pipeline:
    incoming = Incoming.objects.create(name="Pushed orders", identifier=f"{name}-in", platform="webhook",
                                       parser={"format": fmt, "path": path})
    outgoing = Outgoing.objects.create(
        name="Pipedrive persons", identifier=f"{name}-out", platform="pipedrive", method="POST",
        entity="POST /v1/persons", client=destination.make_client(f"{name}-pipedrive"))
    route = Route.objects.create(name="Orders to persons", identifier=name, incoming=incoming, outgoing=outgoing,
                                 realtime=realtime, backoff_seconds=1)
    mapping = Transformer.objects.create(name="To person", identifier=f"{name}-map", steps=TO_PERSON)
    RouteTransformer.objects.create(route=route, transformer=mapping, position=0)
    return Pipeline(incoming, outgoing, route, destination)


def make_webhook(platform: str | None, incoming: Incoming | None = None, *, identifier: str | None = None,
                 **validators) -> Webhook:
    """A webhook with a platform's preset (secrets: SECRET for all) or with the given validators."""
    config, secrets = presets.apply(platform) if platform else ({}, {})
    config.update(validators)
    secrets = {key: SECRET for key in secrets}
    slug = platform or "plain"
    webhook = Webhook.objects.create(name=f"{slug} events", identifier=identifier or f"{slug}-events",
                                     preset=platform or "", validators=config, secrets=secrets)
    if incoming is not None:
        webhook.incomings.add(incoming)
    return webhook


def signed_headers(webhook: Webhook, body: bytes, *, wrong: bool = False) -> tuple[dict, str]:
    """Headers (and a query string) a platform sends for `body`, from each platform's documented scheme."""
    secret = "not-the-secret-0000" if wrong else SECRET
    headers = {"Content-Type": "application/json"}
    query = ""
    if webhook.preset == "picqer":  # base64(HMAC-SHA256(body, secret))
        headers["X-Picqer-Signature"] = signature(body, secret, "sha256", "base64")
    elif webhook.preset == "timely":  # HMAC-SHA256 keyed with secret_token, hex
        headers["X-Signature"] = signature(body, secret, "sha256", "hex")
    elif webhook.preset == "pipedrive":  # http_auth_user / http_auth_password as HTTP Basic
        import base64

        user = webhook.validators["basic"]["username"]
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
    elif webhook.preset == "copper":  # the subscription's custom header
        headers[presets.SECRET_HEADER] = secret
    elif webhook.preset == "connectwise":  # the callback URL's token
        query = f"?{presets.SECRET_QUERY}={secret}"
    return headers, query


def picqer_event(*names: str, event: str = "orders.created") -> bytes:
    """A Picqer delivery: {"idhook", "name", "event", "event_triggered_at", "data"}."""
    data = [{"idorder": 1000 + i, "name": n} for i, n in enumerate(names)]
    return json.dumps({"idhook": 7, "name": "Orders", "event": event, "event_triggered_at": "2026-12-01 12:00:00",
                       "data": data[0] if len(data) == 1 else data}).encode()


@pytest.fixture
def destination():
    with FakePipedrive() as fake:
        yield fake

"""Connections -> Webhooks in the browser, with a real `celery worker`: a Picqer orders.created event,
signed as Picqer signs it, goes from the public endpoint through a route to a local fake destination."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from connections.models import Incoming, Outgoing, Route, Transformer
from tests.fakes.platforms import FakePipedrive
from tests.support.worker import wait_for
from webhooks.models import Webhook, WebhookRequest
from webhooks.validators import signature

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECRET = "picqer-hook-secret-5d1e8a"


def test_a_signed_picqer_event_reaches_the_destination(page, live_server, start_worker):
    with FakePipedrive() as destination:
        outgoing = Outgoing.objects.create(
            name="Pipedrive persons", identifier="persons", platform="pipedrive", method="POST",
            entity="POST /v1/persons", client=destination.make_client("browser-pipedrive"))
        mapping = Transformer.objects.create(name="Order to person", identifier="order-to-person", steps=[
            {"kind": "copy", "settings": {"source": "name", "target": "payload.name"}},
            {"kind": "copy", "settings": {"source": "reference", "target": "payload.reference"}}])
        start_worker()

        # An Incoming configuration with the Webhook subscriber, reading the event's "data".
        page.goto("/connections/incoming/new/")
        page.fill("#id_name", "Picqer orders pushed")
        page.select_option("#id_platform", "webhook")
        page.get_by_label("Path to the entities").fill("data")
        page.get_by_role("button", name="Create").click()
        page.wait_for_url(re.compile(r"/connections/incoming/\d+/$"))
        incoming = Incoming.objects.get(name="Picqer orders pushed")
        assert incoming.platform == "webhook" and incoming.parser["path"] == "data"

        # A route from it to the outgoing, realtime.
        page.goto("/connections/routes/new/")
        page.fill("#id_name", "Orders to persons")
        page.select_option("#id_incoming", str(incoming.pk))
        page.select_option("#id_outgoing", str(outgoing.pk))
        page.get_by_role("button", name="Add transformer").click()
        page.locator("#transformer-rows select").last.select_option(str(mapping.pk))
        page.get_by_label("Realtime processing").check()
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(re.compile(r"/connections/routes/\d+/$"))

        # A webhook with the Picqer preset: it fills in Picqer's signature scheme.
        page.goto("/connections/webhooks/")
        page.get_by_role("link", name="New webhook").click()
        # The preset's script (at the end of the page) must have run before the preset is chosen: on a loaded
        # machine the fields above it were there first, and a choice made then filled nothing in.
        page.wait_for_url("**/connections/webhooks/new/", wait_until="load")
        page.fill("#id_name", "Picqer orders")
        page.select_option("#id_incomings", str(incoming.pk))
        page.select_option("#id_preset", "picqer")
        expect(page.locator("#id_hmac_header")).to_have_value("X-Picqer-Signature")
        expect(page.locator("#id_hmac_encoding")).to_have_value("base64")
        expect(page.locator("#id_hmac_enabled")).to_be_checked()
        page.fill("#id_hmac_secret", SECRET)  # the secret typed into Picqer's hook
        page.get_by_role("button", name="Create").click()
        page.wait_for_url(re.compile(r"/connections/webhooks/\d+/$"))
        expect(page.locator("#endpoint-url")).to_contain_text("/webhooks/picqer-orders")
        assert SECRET not in page.content()
        webhook = Webhook.objects.get()

        body = (b'{"idhook": 12, "name": "Orders to alumio", "event": "orders.created", '
                b'"event_triggered_at": "2026-12-01 10:00:00", "data": {"idorder": 5501, "name": "Ada Lovelace", '
                b'"reference": "R-5501"}}')
        answer = requests.post(f"{live_server.url}/webhooks/{webhook.identifier}", data=body, timeout=30, headers={
            "Content-Type": "application/json", "X-Picqer-Signature": signature(body, SECRET, "sha256", "base64")})
        assert answer.status_code == 202

        wait_for(lambda: len(destination.published) == 1, timeout=120, message="the order published")
        published = destination.published[0]
        assert published.path.endswith("/v1/persons"), published.path
        assert published.body == {"name": "Ada Lovelace", "reference": "R-5501"}
        assert Route.objects.get().tasks.get().data["reference"] == "R-5501"

        page.goto("/connections/webhooks/requests/")
        row = page.locator(".webhook-requests tbody tr").first
        expect(row).to_contain_text("Processed")
        row.get_by_role("link").click()
        expect(page.locator("#request-body")).to_contain_text("orders.created")
        expect(page.locator("#request-headers")).to_contain_text("X-Picqer-Signature")
        assert WebhookRequest.objects.get().tasks_created == 1

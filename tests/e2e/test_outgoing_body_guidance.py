"""A new Outgoing configuration in the browser: the hint shows Timely's body, both templates fill,
and the preview works before the first save (it used to exist only after saving)."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from tests.fakes import FakeTimely

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY = "POST /1.1/{account_id}/clients"


def test_fill_templates_and_preview_on_a_new_configuration(page: Page):
    with FakeTimely() as fake:
        client = fake.make_client(name="Timely fake")
        page.goto("/connections/outgoing/new/")
        page.select_option("#id_platform", "timely")
        page.wait_for_selector("#id_method")
        page.select_option("#id_method", "POST")
        page.wait_for_selector("#entity-search")
        page.fill("#entity-search", "create a client")
        page.wait_for_selector(f'#id_entity option[value="{KEY}"]', state="attached", timeout=60_000)
        page.select_option("#id_entity", KEY)
        hint = page.locator("#params-hint")
        expect(hint.locator("#body-hint")).to_contain_text('wrapped in {"client": {...}}', timeout=60_000)
        expect(hint.locator("#body-hint")).to_contain_text("name string (required)")
        page.select_option("#id_client", str(client.pk))

        hint.get_by_role("button", name="Fill payload template").click()
        assert json.loads(page.input_value("#id_payload")) == {"client": {"name": ""}}
        page.fill("#id_payload", json.dumps({"client": {"name": "Acme"}}))
        hint.get_by_role("button", name="Fill preview template").click()
        sample = json.loads(page.input_value("#preview-sample"))
        assert sample == {"path": {"account_id": ""}, "query": {}, "payload": {}}

        page.fill("#preview-sample", json.dumps({"path": {"account_id": 61234}}))
        page.get_by_role("button", name="Preview request").click()
        expect(page.locator("#preview-url")).to_have_text(f"{fake.base_uri}/1.1/61234/clients", timeout=60_000)
        assert json.loads(page.locator("#preview-body").inner_text()) == {"client": {"name": "Acme"}}

        page.fill("#id_payload", json.dumps({"name": "Acme"}))  # unwrapped: the preview warns
        page.get_by_role("button", name="Preview request").click()
        expect(page.locator("#preview-body-note")).to_contain_text("wrapped in “client”", timeout=60_000)

"""A secret field's line under it follows what is typed: no "Not set" under a typed key."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clients.models import HttpClient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _state(page, name: str):
    return page.locator(f"[data-field='{name}'] .secret-state")


def test_the_secret_state_follows_typing_in_the_wizard_and_the_edit_page(page):
    page.goto("/clients/new/?restart=1")
    page.get_by_label("Picqer HTTP Client").check()
    page.get_by_role("button", name="Next step").click()
    page.wait_for_url("**/clients/new/settings/")
    expect(_state(page, "api_key")).to_have_text("Not set")
    page.get_by_label("API Key").fill("typed-key-0001")
    expect(_state(page, "api_key")).to_have_text("Typed: saved when you save")
    page.get_by_label("API Key").fill("")
    expect(_state(page, "api_key")).to_have_text("Not set")

    client = HttpClient.objects.create(name="P", identifier="p", platform="picqer",
                                       settings={"base_uri": "https://acme.picqer.com/api/v1"},
                                       secrets={"api_key": "stored-key-0001"})
    page.goto(f"/clients/{client.identifier}/edit/")
    expect(_state(page, "api_key")).to_have_text("Set: leave empty to keep it")
    page.get_by_label("API Key").fill("new-key-0002")
    expect(_state(page, "api_key")).to_have_text("Typed: replaces the stored value when you save")

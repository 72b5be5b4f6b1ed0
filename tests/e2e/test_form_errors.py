"""A Save that fails is seen: a banner at the top says what to fix, and the first field in error
is scrolled into view with the cursor in it (the long Incoming form hid its errors below the fold)."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.configurations.conftest import make_client, make_incoming

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_failed_save_shows_a_banner_and_focuses_the_field(page: Page):
    incoming = make_incoming(make_client("picqer"), "GET /customers")
    page.set_viewport_size({"width": 1200, "height": 700})
    page.goto(incoming.get_absolute_url())
    page.fill("#id_request_parameters", '{"query": {"search": ')  # cut-off JSON
    page.locator("#configuration-form button[type=submit]").first.click()

    banner = page.locator("#form-errors")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Not saved")
    expect(banner.get_by_role("link", name="Request parameters")).to_be_visible()
    # the cursor is in the field to fix, and the field is on screen
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'id_request_parameters'")
    expect(page.locator("#id_request_parameters")).to_be_in_viewport()


def test_route_form_banner_lists_each_missing_field(page: Page):
    page.goto("/connections/routes/new/")
    page.get_by_role("button", name="Save").click()

    banner = page.locator("#form-errors")
    expect(banner).to_be_visible()
    for label in ("Name", "Incoming", "Outgoing"):
        expect(banner.get_by_role("link", name=label, exact=True)).to_be_visible()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'id_name'")

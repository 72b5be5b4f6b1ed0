"""The webhook page's presets when the user is quicker than static/js/webhook-presets.js: the browser is held
on the script (Playwright's router) while the preset is chosen, then the script is let through.

A preset chosen before the script ran is applied when it loads, but only on a new webhook whose validator
fields are still empty: never over what the user typed, never over an existing webhook's settings."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, Route, expect

from webhooks.models import Webhook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT = re.compile(r"/js/webhook-presets(\.[0-9a-f]+)?\.js$")
PICQER_NOTES = "Picqer signs every delivery"


class HeldScript:
    """Holds the browser's request for the preset script until release(); the page above it is usable meanwhile."""

    def __init__(self, page: Page):
        self.page = page
        self.held: list[Route] = []
        page.route(SCRIPT, self.hold)

    def hold(self, route: Route) -> None:
        self.held.append(route)  # answered in release()

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="commit")  # the load event waits for the held script
        expect(self.page.locator("#id_preset")).to_be_enabled()

    def release(self) -> None:
        deadline = time.monotonic() + 45  # a budget for a loaded machine, not a measurement
        while not self.held:  # the router's handler runs while Playwright waits
            assert time.monotonic() < deadline, "the browser never asked for webhook-presets.js"
            self.page.wait_for_timeout(100)
        for route in self.held:
            route.continue_()
        self.page.unroute(SCRIPT, self.hold)  # after: unrouting first settles the held request itself
        self.page.wait_for_load_state("load")
        # The script has run: it shows the chosen preset's notes.
        expect(self.page.locator("#preset-notes")).to_contain_text(PICQER_NOTES)


def test_a_preset_chosen_before_the_script_ran_is_applied_when_it_loads(page: Page):
    script = HeldScript(page)
    script.open("/connections/webhooks/new/")
    page.select_option("#id_preset", "picqer")
    expect(page.locator("#id_hmac_header")).to_have_value("")  # nothing has filled it in yet
    script.release()
    expect(page.locator("#id_hmac_enabled")).to_be_checked()
    expect(page.locator("#id_hmac_header")).to_have_value("X-Picqer-Signature")
    expect(page.locator("#id_hmac_algorithm")).to_have_value("sha256")
    expect(page.locator("#id_hmac_encoding")).to_have_value("base64")


def test_what_was_typed_before_the_script_ran_is_kept(page: Page):
    script = HeldScript(page)
    script.open("/connections/webhooks/new/")
    page.fill("#id_hmac_header", "X-Our-Signature")
    page.select_option("#id_preset", "picqer")
    script.release()
    expect(page.locator("#id_hmac_header")).to_have_value("X-Our-Signature")
    expect(page.locator("#id_hmac_enabled")).not_to_be_checked()
    expect(page.locator("#id_hmac_encoding")).to_have_value("hex")


def test_an_existing_webhook_is_left_as_it_is(page: Page):
    webhook = Webhook.objects.create(name="No validators yet", identifier="no-validators-yet")
    script = HeldScript(page)
    script.open(f"/connections/webhooks/{webhook.pk}/")
    page.select_option("#id_preset", "picqer")
    script.release()
    expect(page.locator("#id_hmac_enabled")).not_to_be_checked()
    expect(page.locator("#id_hmac_header")).to_have_value("")
    # Choosing a preset once the script is there fills it in, as it always did.
    page.select_option("#id_preset", "")
    page.select_option("#id_preset", "picqer")
    expect(page.locator("#id_hmac_header")).to_have_value("X-Picqer-Signature")

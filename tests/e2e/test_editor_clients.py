"""In the browser: an Editor opens an HTTP Client's edit page, finds the secret and the Base URI locked, renames
the client and saves; the stored secret and host are unchanged."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clients.models import HttpClient
from tests.accounts.conftest import make_user
from tests.conftest import PASSWORD
from tests.fakes import FakePipedrive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_renames_a_client_with_secret_and_host_locked(browser, live_server):
    make_user("erin-editor", "Editor")
    with FakePipedrive() as fake:
        saved = fake.make_client("pd")
        token, base_uri = saved.secrets["api_token"], saved.settings["base_uri"]
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
        context.set_default_timeout(45_000)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("#id_username", "erin-editor")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login" not in url)

        page.goto("/clients/pd/")
        expect(page.locator(".page-header")).not_to_contain_text("Duplicate")
        page.locator(".page-header").get_by_role("link", name="Edit").click()
        expect(page.locator("#editor-limits")).to_contain_text("only an Admin changes them")
        expect(page.locator("input[name=base_uri]")).not_to_be_editable()
        expect(page.locator("input[name=api_token]")).to_be_disabled()
        page.fill("#id_name", "Pipedrive (sales)")
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".messages")).to_contain_text("HTTP Client “Pipedrive (sales)” saved.")
        context.close()
    saved = HttpClient.objects.get(pk=saved.pk)
    assert saved.name == "Pipedrive (sales)"
    assert saved.secrets["api_token"] == token and saved.settings["base_uri"] == base_uri

"""The docs' steps in chromium, for each of the five platforms:
Clients -> HTTP Clients -> Create, choose "<Platform> HTTP Client", "Next step", fill in the
Base URI and keys (optionally "Enable request logging"), "Next step", name it, "Save".
API-key platforms point at their local fake and finish with "Test connection"."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from clients.models import HttpClient
from tests.fakes.fixtures import fake_platform  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# README screenshots are refreshed only on request (SAVE_SCREENSHOTS=1), so a test run never
# dirties the working tree.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _shot_dir(tmp_path: Path) -> Path:
    return SCREENSHOTS if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path


def _open_wizard(page, label: str) -> None:
    page.goto("/clients/")
    page.get_by_role("link", name="Create HTTP Client").first.click()
    page.get_by_label(label).check()
    page.get_by_role("button", name="Next step").click()
    page.wait_for_url("**/clients/new/settings/")


def _name_and_save(page, name: str) -> None:
    page.get_by_role("button", name="Next step").click()
    page.wait_for_url("**/clients/new/name/")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector(f"text=HTTP Client “{name}” saved.")


def _test_connection(page) -> str:
    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#test-result .test-result")
    result.wait_for()
    return result.inner_text()


API_KEY_STEPS = {
    "picqer": lambda page, fake: (
        page.get_by_label("Base URI").fill(fake.base_uri),
        page.get_by_label("API Key").fill(fake.api_key),
    ),
    "pipedrive": lambda page, fake: (
        page.get_by_label("Base URI").fill(fake.base_uri),
        page.get_by_label("API Token").fill(fake.api_token),
    ),
    "connectwise": lambda page, fake: (
        page.get_by_label("Base URI").fill(fake.base_uri),
        [page.get_by_label(label).fill(str(value)) for label, value in (
            ("Client ID", fake.client_id),
            ("Company ID", fake.client_settings()["company_id"]),
            ("Public Key", fake.client_settings()["public_key"]),
            ("Private Key", fake.client_secrets()["private_key"]),
        )],
    ),
    "copper": lambda page, fake: (
        page.get_by_label("Base URI").fill(fake.base_uri),
        page.get_by_label("Authentication type").select_option("api_keys"),
        page.get_by_label("X-PW-AccessToken").fill(fake.api_key),
        page.get_by_label("X-PW-UserEmail").fill(fake.email),
    ),
}
LABELS = {"picqer": "Picqer HTTP Client", "pipedrive": "Pipedrive HTTP Client",
          "connectwise": "ConnectWise HTTP Client", "copper": "Copper HTTP Client"}


@pytest.mark.parametrize("platform", list(API_KEY_STEPS))
def test_api_key_platform_through_the_wizard(page, fake_platform, platform):  # noqa: F811
    fake = fake_platform(platform)
    _open_wizard(page, LABELS[platform])
    API_KEY_STEPS[platform](page, fake)
    page.get_by_label("Enable request logging").check()
    _name_and_save(page, f"Acme {platform}")
    client = HttpClient.objects.get(platform=platform)
    assert client.log_requests and client.auth_state == "credentials"
    assert page.locator("#auth-state").inner_text() == "API key set"
    assert "Connected" in _test_connection(page)
    assert fake.request_count >= 1
    html = page.content()
    for value in client.secrets.values():
        assert value not in html


def test_timely_through_the_wizard_with_back_and_screenshot(page):
    _open_wizard(page, "Timely HTTP Client")
    # Token URL and Authorize URL are set on default.
    assert page.get_by_label("Token URL").input_value() == "https://api.timelyapp.com/1.1/oauth/token"
    page.get_by_label("Client ID").fill("timely-app-42")
    page.get_by_label("Client Secret").fill("timely-secret-value-42")
    page.get_by_label("Enable request logging").check()
    page.get_by_role("button", name="Next step").click()
    page.wait_for_url("**/clients/new/name/")
    page.get_by_role("button", name="Back").click()
    page.wait_for_url("**/clients/new/settings/")
    assert page.get_by_label("Client ID").input_value() == "timely-app-42"
    assert page.get_by_label("Client Secret").input_value() == ""
    assert "kept from your last input" in page.locator("[data-field=client_secret]").inner_text()
    assert page.get_by_label("Enable request logging").is_checked()
    _name_and_save(page, "Acme Timely")
    client = HttpClient.objects.get(identifier="acme-timely")
    assert client.secrets == {"client_secret": "timely-secret-value-42"}
    assert page.locator("#auth-state").inner_text() == "Needs grant"
    assert page.get_by_role("button", name="Grant access to Timely").is_visible()
    assert "/clients/oauth/callback/" in page.locator("#redirect-uri").input_value()


def test_copper_authentication_type_switches_fields(page, tmp_path):
    _open_wizard(page, "Copper HTTP Client")
    access_token = page.locator("[data-field=pw_access_token]")
    client_id = page.locator("[data-field=client_id]")
    assert access_token.is_visible() and not client_id.is_visible()
    page.get_by_label("Authentication type").select_option("oauth2")
    assert client_id.is_visible() and not access_token.is_visible()
    page.get_by_label("Client ID").fill("copper-app")
    page.get_by_label("Client Secret").fill("copper-secret-value")
    _shot_dir(tmp_path).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(_shot_dir(tmp_path) / "wizard-step-2.png"), full_page=True)
    _name_and_save(page, "Copper OAuth")
    assert HttpClient.objects.get(identifier="copper-oauth").auth_state == "needs_grant"


def test_bad_input_in_the_browser_keeps_what_was_typed(page):
    HttpClient.objects.create(name="Taken", identifier="taken", platform="picqer")
    _open_wizard(page, "Picqer HTTP Client")
    page.get_by_label("Base URI").fill("https://acme.picqer.com/api/v1")
    page.get_by_label("API Key").fill("pq-kéy")
    page.get_by_role("button", name="Next step").click()
    assert "non-ASCII" in page.locator("[data-field=api_key] .errorlist").inner_text()
    assert page.get_by_label("Base URI").input_value() == "https://acme.picqer.com/api/v1"
    page.get_by_label("API Key").fill("pq-key-ok-123")
    page.get_by_role("button", name="Next step").click()
    page.wait_for_url("**/clients/new/name/")
    page.get_by_label("Name").fill("Taken")
    page.get_by_label("Identifier").fill("taken")
    page.get_by_role("button", name="Save").click()
    assert "already used" in page.locator(".errorlist").first.inner_text()
    assert page.get_by_label("Name").input_value() == "Taken"
    page.get_by_label("Identifier").fill("")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=saved.")
    assert HttpClient.objects.filter(identifier="taken-2").exists()

"""Grant access in chromium against a real OAuth 2.0 provider (django-oauth-toolkit, own process).

Click "Grant access to Timely", sign in and approve on the provider's page, land back on the
client page with "Access granted"; then the token works through the HTTP seam, and after
expiry two workers needing it at once cause exactly one refresh at the token endpoint.
Copper's variant calls back with a POST (the provider renders an auto-submitting form, as
Copper does), cross-site: the dashboard runs on localhost, the provider on 127.0.0.1.
"""
from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from clients import oauth
from clients.http import ClientSession
from clients.models import HttpClient
from tests.clients.conftest import make_oauth_client
from tests.oauth_server.fixtures import oauth_provider  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# README screenshots are refreshed only on request (SAVE_SCREENSHOTS=1), so a test run never
# dirties the working tree.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _shot_dir(tmp_path: Path) -> Path:
    return SCREENSHOTS if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path


@pytest.fixture
def public_url(settings, live_server, oauth_provider):  # noqa: F811
    settings.PUBLIC_BASE_URL = live_server.url
    oauth_provider.allow_redirect_uris(live_server.url + "/clients/oauth/callback/")
    return live_server.url


def _grant_in_browser(page, client: HttpClient, provider, platform_label: str) -> None:
    page.goto(client.get_absolute_url())
    assert page.locator("#auth-state").inner_text() == "Needs grant"
    page.get_by_role("button", name=f"Grant access to {platform_label}").click()
    page.wait_for_url(f"{provider.origin}/accounts/login/**")
    page.fill("#id_username", provider.username)
    page.fill("#id_password", provider.password)
    page.click("#provider-login")
    page.wait_for_url(f"{provider.origin}/**/authorize/**")
    page.click("#approve")
    page.wait_for_url(f"**{client.get_absolute_url()}")
    page.wait_for_selector(f"text=Access granted to {platform_label}.")


def _refresh_once_for_two_workers(client: HttpClient, provider) -> str:
    HttpClient.objects.filter(pk=client.pk).update(token_expires_at=timezone.now() - timedelta(seconds=1))
    before = provider.token_requests().get("refresh_token", 0)
    barrier = threading.Barrier(2)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            mine = HttpClient.objects.get(pk=client.pk)
            barrier.wait(timeout=10)
            tokens.append(oauth.access_token(mine))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert provider.token_requests().get("refresh_token", 0) == before + 1
    assert tokens[0] == tokens[1]
    return tokens[0]


def test_timely_grant_access_round_trip(page, oauth_provider, public_url, tmp_path):  # noqa: F811
    client = make_oauth_client(oauth_provider, name="Acme Timely")
    _grant_in_browser(page, client, oauth_provider, "Timely")
    assert page.locator("#auth-state").inner_text().startswith("Access granted, refreshes in")
    client.refresh_from_db()
    assert client.tokens["access_token"] not in page.content()
    # A call with the token: "Test connection" hits the provider's protected /1.1/accounts.
    page.get_by_role("button", name="Test connection").click()
    page.wait_for_selector("#test-result .badge.ok")
    assert "Connected" in page.locator("#test-result").inner_text()
    _shot_dir(tmp_path).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(_shot_dir(tmp_path) / "http-client-page.png"), full_page=True)
    # After expiry, two workers at the same moment: one refresh, and the new token works.
    new_token = _refresh_once_for_two_workers(client, oauth_provider)
    assert new_token != client.tokens["access_token"]
    with ClientSession(HttpClient.objects.get(pk=client.pk)) as session:
        assert session.call("GET /1.1/accounts").data[0]["user"] == "approver"


def test_copper_grant_access_with_post_callback(page, oauth_provider, public_url):  # noqa: F811
    client = make_oauth_client(oauth_provider, platform="copper", identifier="copper-oauth", name="Acme Copper")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "oauth/callback" in r.url else None)
    _grant_in_browser(page, client, oauth_provider, "Copper")
    assert posts == [public_url + "/clients/oauth/callback/"]  # the code arrived in a POST body
    assert page.locator("#auth-state").inner_text().startswith("Access granted")
    page.get_by_role("button", name="Test connection").click()
    page.wait_for_selector("#test-result .badge.ok")
    _refresh_once_for_two_workers(client, oauth_provider)
    with ClientSession(HttpClient.objects.get(pk=client.pk)) as session:
        assert session.call("GET /account").data["name"] == "Acme Copper"


def test_denied_at_the_provider_shows_a_clear_message(page, oauth_provider, public_url):  # noqa: F811
    client = make_oauth_client(oauth_provider)
    page.goto(client.get_absolute_url())
    page.get_by_role("button", name="Grant access to Timely").click()
    page.fill("#id_username", oauth_provider.username)
    page.fill("#id_password", oauth_provider.password)
    page.click("#provider-login")
    page.click("#deny")
    page.wait_for_url(f"**{client.get_absolute_url()}")
    assert "denied" in page.locator(".message.error").inner_text()
    assert page.locator("#auth-state").inner_text() == "Needs grant"
    client.refresh_from_db()
    assert client.tokens == {}

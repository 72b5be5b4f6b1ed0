"""Fixtures for the HTTP Clients tests: the real OAuth provider, fakes, a granted client."""
from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from clients.models import HttpClient
from clients.platforms.registry import PLATFORMS
from tests.fakes.fixtures import (  # noqa: F401
    fake_connectwise,
    fake_copper,
    fake_picqer,
    fake_pipedrive,
    fake_platform,
)
from tests.oauth_server.fixtures import Provider, approve, oauth_provider  # noqa: F401

DASHBOARD = "http://dashboard.test"
CALLBACK = DASHBOARD + "/clients/oauth/callback/"


@pytest.fixture
def dashboard_url(settings, oauth_provider):  # noqa: F811
    """PUBLIC_BASE_URL for tests driven with Django's test client, registered at the provider."""
    settings.PUBLIC_BASE_URL = DASHBOARD
    oauth_provider.allow_redirect_uris(CALLBACK)
    return DASHBOARD


def make_oauth_client(provider: Provider, platform: str = "timely", identifier: str = "timely-oauth",
                      app: str | None = None, **overrides) -> HttpClient:
    """An HTTP Client whose OAuth endpoints and API are the test provider (its app for `platform`)."""
    app = provider.app(app or platform)
    if platform == "timely":
        settings = {"base_uri": provider.origin, "client_id": app.client_id,
                    "authorize_url": provider.authorize_url, "token_url": provider.token_url}
    elif platform == "pipedrive":  # OAuth mode; the endpoints are not fields there, settings still win
        settings = {"base_uri": provider.origin + "/pipedrive/api", "auth_type": "oauth2",
                    "client_id": app.client_id, "authorize_url": provider.authorize_url,
                    "token_url": provider.token_url}
    else:  # copper in OAuth mode
        settings = {"base_uri": provider.origin + "/developer_api/v1", "auth_type": "oauth2",
                    "client_id": app.client_id, "scopes": "read",
                    "authorize_url": provider.copper_authorize_url, "token_url": provider.token_url}
    settings.update(overrides.pop("settings", {}))
    overrides.setdefault("name", f"{platform} via OAuth")
    return HttpClient.objects.create(
        identifier=identifier, platform=platform, settings=settings,
        secrets={"client_secret": overrides.pop("client_secret", app.client_secret)},
        auth_state=HttpClient.AuthState.NEEDS_GRANT, **overrides,
    )


def grant(test_client, provider: Provider, client: HttpClient, *, deny: bool = False):
    """Click Grant access, approve at the provider, deliver its answer to the callback.

    Returns the dashboard's final response to the callback (a redirect).
    """
    start = test_client.post(reverse("clients:grant", args=[client.identifier]))
    assert start.status_code == 302, start.content[:300]
    method, params = approve(provider, start["Location"], deny=deny)
    path = urlsplit(CALLBACK).path
    if method == "POST":
        # The POST (Copper) is handed on to a GET that carries the browser's session: follow it.
        return test_client.get(continue_url(test_client.post(path, params)))
    return test_client.get(path, params)


def continue_url(response) -> str:
    """Where the page answering a POST callback sends the browser on (its Continue link)."""
    import html
    import re

    assert response.status_code == 200, response.content[:300]
    return html.unescape(re.search(r'id="continue" href="([^"]+)"', response.content.decode()).group(1))


@pytest.fixture
def granted_timely(signed_in, oauth_provider, dashboard_url) -> HttpClient:  # noqa: F811
    client = make_oauth_client(oauth_provider)
    response = grant(signed_in, oauth_provider, client)
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.auth_state == HttpClient.AuthState.GRANTED
    return client


@pytest.fixture
def copper_with_pkce(monkeypatch):
    """Copper as if its OAuth data said pkce=True (no platform does today): the PKCE path runs."""
    copper = PLATFORMS["copper"]
    monkeypatch.setitem(PLATFORMS, "copper", dataclasses.replace(copper, oauth=dataclasses.replace(copper.oauth,
                                                                                                   pkce=True)))

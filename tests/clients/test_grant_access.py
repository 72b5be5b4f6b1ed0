"""Grant access against a real OAuth 2.0 provider (django-oauth-toolkit in its own process).

The dashboard side is driven with Django's test client, the provider side with `requests`
playing the user's browser (tests/e2e has the same in chromium).
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from clients import oauth
from clients.http import ClientSession
from clients.models import HttpClient, OAuthState
from tests.oauth_server.fixtures import approve

from .conftest import CALLBACK, continue_url, grant, make_oauth_client

pytestmark = pytest.mark.django_db(transaction=True)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_authorize_url_carries_state_and_pkce_s256(signed_in, oauth_provider, dashboard_url, copper_with_pkce):
    client = make_oauth_client(oauth_provider, platform="copper", identifier="copper-oauth", app="pkce")
    response = signed_in.post(reverse("clients:grant", args=[client.identifier]))
    url = urlsplit(response["Location"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == "/copper/authorize/"
    assert query["redirect_uri"] == CALLBACK
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    row = OAuthState.objects.get(state=query["state"])
    assert row.client == client and row.used_at is None
    assert len(query["state"]) >= 40


def test_timely_grant_stores_tokens_encrypted_and_the_token_works(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider)
    response = grant(signed_in, oauth_provider, client)
    assert response.status_code == 302 and response["Location"] == reverse("clients:detail", args=[client.identifier])
    assert "Access granted to Timely." in _messages(response)
    client.refresh_from_db()
    assert client.auth_state == "granted"
    assert client.tokens["access_token"] and client.tokens["refresh_token"]
    assert client.token_expires_at is not None
    # Encrypted at rest: the raw column holds neither token.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tokens FROM clients_httpclient WHERE id = %s", [client.pk])
        raw = cursor.fetchone()[0]
    assert client.tokens["access_token"] not in raw and client.tokens["refresh_token"] not in raw
    # The token opens the provider's protected resource through the HTTP seam.
    with ClientSession(client) as session:
        answer = session.call("GET /1.1/accounts")
    assert answer.status == 200 and answer.data[0]["user"] == "approver"
    page = signed_in.get(reverse("clients:detail", args=[client.identifier])).content.decode()
    assert "Access granted" in page and client.tokens["access_token"] not in page


def test_copper_callback_is_a_post_without_the_session_cookie(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider, platform="copper", identifier="copper-oauth")
    start = signed_in.post(reverse("clients:grant", args=[client.identifier]))
    method, params = approve(oauth_provider, start["Location"])
    assert method == "POST" and set(params) == {"code", "state"}
    # A cross-site POST carries no SameSite=Lax cookie: deliver it from a cookie-less client;
    # the page it answers sends the browser (now with its cookie) on to a GET.
    anonymous = Client(enforce_csrf_checks=True)
    bounce = anonymous.post(reverse("clients:oauth_callback"), params)
    response = signed_in.get(continue_url(bounce))
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:detail", args=[client.identifier])
    client.refresh_from_db()
    assert client.auth_state == "granted" and client.tokens["access_token"]
    with ClientSession(client) as session:
        assert session.call("GET /account").data["name"] == "Acme Copper"


def test_a_state_is_single_use(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider)
    start = signed_in.post(reverse("clients:grant", args=[client.identifier]))
    _, params = approve(oauth_provider, start["Location"])
    first = signed_in.get(reverse("clients:oauth_callback"), params)
    assert "Access granted to Timely." in _messages(first)
    client.refresh_from_db()
    tokens = dict(client.tokens)
    again = signed_in.get(reverse("clients:oauth_callback"), params)
    assert any("already used" in m for m in _messages(again))
    client.refresh_from_db()
    assert client.tokens == tokens


def test_unknown_state_is_refused_and_stores_nothing(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider)
    start = signed_in.post(reverse("clients:grant", args=[client.identifier]))
    _, params = approve(oauth_provider, start["Location"])
    response = signed_in.get(reverse("clients:oauth_callback"), {**params, "state": "forged-state-value"})
    assert response["Location"] == reverse("clients:list")
    assert any("unknown" in m for m in _messages(response))
    client.refresh_from_db()
    assert client.tokens == {} and client.auth_state == "needs_grant"


def test_state_from_another_session_is_refused(signed_in, consultant, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider)
    start = signed_in.post(reverse("clients:grant", args=[client.identifier]))
    _, params = approve(oauth_provider, start["Location"])
    other = Client()
    other.force_login(consultant)  # same user, another browser session
    response = other.get(reverse("clients:oauth_callback"), params)
    assert any("another browser session" in m for m in _messages(response))
    client.refresh_from_db()
    assert client.tokens == {}


def test_expired_state_is_refused(signed_in, oauth_provider, dashboard_url):
    from datetime import timedelta

    from django.utils import timezone

    client = make_oauth_client(oauth_provider)
    start = signed_in.post(reverse("clients:grant", args=[client.identifier]))
    _, params = approve(oauth_provider, start["Location"])
    OAuthState.objects.filter(state=params["state"]).update(created_at=timezone.now() - timedelta(hours=1))
    response = signed_in.get(reverse("clients:oauth_callback"), params)
    assert any("expired" in m for m in _messages(response))
    client.refresh_from_db()
    assert client.tokens == {}


def test_access_denied_is_shown_and_stores_nothing(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider)
    response = grant(signed_in, oauth_provider, client, deny=True)
    assert response["Location"] == reverse("clients:detail", args=[client.identifier])
    assert any("denied" in m for m in _messages(response))
    client.refresh_from_db()
    assert client.tokens == {} and client.auth_state == "needs_grant"


def test_token_endpoint_failure_is_shown_and_stores_nothing(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider, client_secret="wrong-secret-0000")
    response = grant(signed_in, oauth_provider, client)
    text = " ".join(_messages(response))
    assert "code exchange failed" in text and "Timely refused the token request: invalid_client" in text
    assert "check the Client ID, Client Secret" in text
    assert "wrong-secret-0000" not in text
    client.refresh_from_db()
    assert client.tokens == {}


def test_unreachable_token_endpoint_is_shown(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider)
    start = signed_in.post(reverse("clients:grant", args=[client.identifier]))
    _, params = approve(oauth_provider, start["Location"])
    HttpClient.objects.filter(pk=client.pk).update(
        settings={**client.settings, "token_url": "http://127.0.0.1:9/o/token/"})
    response = signed_in.get(reverse("clients:oauth_callback"), params)
    assert any("cannot be reached" in m for m in _messages(response))
    client.refresh_from_db()
    assert client.tokens == {}


def test_remote_plain_http_endpoints_are_refused(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider, settings={"authorize_url": "http://provider.example/authorize"})
    response = signed_in.post(reverse("clients:grant", args=[client.identifier]))
    assert response["Location"] == reverse("clients:detail", args=[client.identifier])
    assert any("https://" in m for m in _messages(response))


def test_redirect_uri_is_shown_on_the_client_page(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider)
    page = signed_in.get(reverse("clients:detail", args=[client.identifier])).content.decode()
    assert CALLBACK in page
    assert "Grant access to Timely" in page


def test_provider_refuses_a_code_without_the_verifier(signed_in, oauth_provider, dashboard_url, copper_with_pkce):
    """The provider really requires PKCE of its PKCE app: a code without code_verifier is refused,
    and the dashboard, told pkce=True, sends the verifier and gets its tokens."""
    client = make_oauth_client(oauth_provider, platform="copper", identifier="copper-oauth", app="pkce")
    start = signed_in.post(reverse("clients:grant", args=[client.identifier]))
    _, params = approve(oauth_provider, start["Location"])
    app = oauth_provider.app("pkce")
    answer = requests.post(oauth_provider.token_url, timeout=10, data={
        "grant_type": "authorization_code", "code": params["code"], "redirect_uri": CALLBACK,
        "client_id": app.client_id, "client_secret": app.client_secret,
    })
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    assert grant(signed_in, oauth_provider, client).status_code == 302
    client.refresh_from_db()
    assert client.auth_state == "granted" and client.tokens["access_token"]


def test_start_grant_needs_client_credentials(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider, client_secret="")
    response = signed_in.post(reverse("clients:grant", args=[client.identifier]))
    assert any("Client Secret" in m for m in _messages(response))
    assert not OAuthState.objects.filter(client=client).exists()


def test_oauth_module_redirect_uri_uses_public_base_url(settings):
    settings.PUBLIC_BASE_URL = "https://dash.example.com"
    assert oauth.redirect_uri() == "https://dash.example.com/clients/oauth/callback/"

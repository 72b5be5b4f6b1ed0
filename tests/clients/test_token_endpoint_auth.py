"""Client authentication at the token endpoint as each platform's OAuth data says (RFC 6749
§2.3.1), PKCE only where it says so, and code exchanges that fail say what the endpoint answered.

The provider (django-oauth-toolkit, own process) enforces each app's method: its Pipedrive app
takes only HTTP Basic, its Timely app only credentials in the body.
"""
from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from clients import oauth
from clients.http import ClientSession
from clients.models import HttpClient, RequestLog

from .conftest import grant, make_oauth_client
from .token_endpoint import TokenEndpoint

pytestmark = pytest.mark.django_db(transaction=True)


def _refused_client_auth(provider) -> int:
    return provider.token_requests().get("refused_client_auth", 0)


def test_pipedrive_authenticates_with_http_basic_for_the_code_and_the_refresh(signed_in, oauth_provider,
                                                                               dashboard_url):
    client = make_oauth_client(oauth_provider, platform="pipedrive", identifier="pipedrive-oauth")
    refused = _refused_client_auth(oauth_provider)
    response = grant(signed_in, oauth_provider, client)
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Access granted to Pipedrive."]
    client.refresh_from_db()
    first = client.tokens["access_token"]
    HttpClient.objects.filter(pk=client.pk).update(token_expires_at=timezone.now() - timedelta(seconds=5))
    client.refresh_from_db()
    with ClientSession(client) as session:  # the refresh first, then Pipedrive's test call
        assert session.call("GET /v1/users/me").data["data"]["name"] == "approver"
    client.refresh_from_db()
    assert client.tokens["access_token"] != first
    assert _refused_client_auth(oauth_provider) == refused  # never refused for sending the secret wrongly


def test_the_basic_header_carries_form_encoded_credentials_and_the_body_no_secret(signed_in, oauth_provider,
                                                                                   dashboard_url):
    secret = "s3cret with spaces&symbols=+"
    client = make_oauth_client(oauth_provider, platform="pipedrive", identifier="pipedrive-shape",
                               client_secret=secret)
    with TokenEndpoint() as endpoint:
        HttpClient.objects.filter(pk=client.pk).update(settings={**client.settings, "token_url": endpoint.url})
        grant(signed_in, oauth_provider, client)
        [(headers, form)] = endpoint.requests
    scheme, _, encoded = headers["Authorization"].partition(" ")
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    assert scheme == "Basic" and unquote_plus(user) == client.settings["client_id"]
    assert unquote_plus(password) == secret and password != secret  # form-encoded first (RFC 6749 §2.3.1)
    assert form["grant_type"] == "authorization_code" and form["code"]
    assert "client_secret" not in form and "code_verifier" not in form


def test_timely_sends_its_credentials_in_the_body_and_no_pkce(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider)
    start = signed_in.post(reverse("clients:grant", args=[client.identifier]))
    query = parse_qs(urlsplit(start["Location"]).query)
    assert "code_challenge" not in query and "code_challenge_method" not in query  # Timely: pkce=False
    with TokenEndpoint() as endpoint:
        HttpClient.objects.filter(pk=client.pk).update(settings={**client.settings, "token_url": endpoint.url})
        grant(signed_in, oauth_provider, client)
        [(headers, form)] = endpoint.requests
    assert "Authorization" not in headers
    assert form["client_id"] == oauth_provider.client_id and form["client_secret"] == oauth_provider.client_secret
    assert "code_verifier" not in form


@pytest.mark.parametrize(("reply", "expected"), [
    ((500, "text/html; charset=utf-8", b"<html><body>Internal error ref 8812</body></html>"),
     ["HTTP 500 (text/html)", "Internal error ref 8812"]),
    ((200, "text/html", b"<!doctype html><title>Sign in to Acme</title>"),
     ["HTTP 200 (text/html)", "Sign in to Acme", "not a token", "Token URL"]),
    ((200, "application/json", b'{"token_type": "Bearer", "note": "no token here"}'),
     ["HTTP 200 (application/json)", "no token here", "not a token"]),
])
def test_a_failed_code_exchange_says_what_the_endpoint_answered(signed_in, oauth_provider, dashboard_url,
                                                                reply, expected):
    client = make_oauth_client(oauth_provider)
    with TokenEndpoint(reply=reply) as endpoint:
        HttpClient.objects.filter(pk=client.pk).update(settings={**client.settings, "token_url": endpoint.url})
        response = grant(signed_in, oauth_provider, client)
        [(_, form)] = endpoint.requests
    text = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "missing_token" not in text
    for part in expected:
        assert part in text, text
    assert form["code"] not in text and oauth_provider.client_secret not in text
    client.refresh_from_db()
    assert client.tokens == {} and client.auth_state == "needs_grant"
    log = RequestLog.objects.get(client=client, method="POST")  # logged although logging is off
    assert log.status == reply[0] and form["code"] not in log.request_body + log.error


def test_a_refused_code_exchange_says_what_to_check(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider, platform="pipedrive", identifier="pipedrive-wrong",
                               client_secret="not-the-secret-Qz81")
    response = grant(signed_in, oauth_provider, client)
    text = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "Pipedrive refused the token request: invalid_client" in text and "HTTP 401" in text
    assert "Client Secret" in text and "not-the-secret-Qz81" not in text


def test_auth_method_comes_from_the_platforms_oauth_data():
    from clients.platforms.registry import get_platform

    assert oauth.auth_method(get_platform("pipedrive")) == "client_secret_basic"
    assert oauth.auth_method(get_platform("timely")) == "client_secret_post"
    assert oauth.auth_method(get_platform("copper")) == "client_secret_post"

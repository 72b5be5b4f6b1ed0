"""Token requests (code exchange, refresh) against the real test provider: logged with every
secret redacted, and an unreachable token endpoint surfaced as a clear PlatformError."""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from clients import oauth
from clients.http import ClientSession, ConnectionFailed, CredentialsError, TokenRefreshFailed, TokenUnavailable
from clients.models import HttpClient, OAuthState, RequestLog
from tests.fakes import FakeTimely
from tests.oauth_server.fixtures import approve

from .conftest import CALLBACK, make_oauth_client

pytestmark = pytest.mark.django_db(transaction=True)

UNREACHABLE = "http://127.0.0.1:9/o/token/"  # the discard port: nothing listens, connection refused


def _expire(client: HttpClient) -> None:
    HttpClient.objects.filter(pk=client.pk).update(token_expires_at=timezone.now() - timedelta(seconds=5))
    client.refresh_from_db()


def _point_token_url(client: HttpClient, url: str) -> None:
    HttpClient.objects.filter(pk=client.pk).update(settings={**client.settings, "token_url": url})
    client.refresh_from_db()


def _grant(signed_in, provider, client: HttpClient) -> list[str]:
    """Grant access through the dashboard; returns the one-time values it used (code, verifier)."""
    start = signed_in.post(reverse("clients:grant", args=[client.identifier]))
    assert start.status_code == 302
    _, params = approve(provider, start["Location"])
    verifier = OAuthState.objects.get(state=params["state"]).code_verifier.get("value")  # with PKCE only
    assert signed_in.get(urlsplit(CALLBACK).path, params).status_code == 302
    client.refresh_from_db()
    assert client.auth_state == HttpClient.AuthState.GRANTED
    return [params["code"], *([verifier] if verifier else [])]


def _token_logs(client: HttpClient, token_url: str) -> list[RequestLog]:
    prefix = token_url.split("?")[0]
    return list(RequestLog.objects.filter(client=client, url__startswith=prefix).order_by("id"))


def _everything(log: RequestLog) -> str:
    return json.dumps([log.url, log.request_headers, log.request_body, log.response_headers,
                       log.response_body, log.error])


def test_code_exchange_and_refresh_are_logged_with_every_secret_redacted(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider, identifier="timely-logged", log_requests=True)
    one_time = _grant(signed_in, oauth_provider, client)
    first_tokens = dict(client.tokens)
    _expire(client)
    oauth.access_token(client)
    client.refresh_from_db()
    secrets = [oauth_provider.client_secret, *one_time, first_tokens["access_token"],
               first_tokens["refresh_token"], client.tokens["access_token"], client.tokens["refresh_token"]]
    assert len(set(secrets)) == 6 and all(len(s) >= 8 for s in secrets)  # Timely: no PKCE verifier

    logs = _token_logs(client, oauth_provider.token_url)
    assert [(log.method, log.status) for log in logs] == [("POST", 200), ("POST", 200)]
    exchange, refresh = logs
    assert "grant_type=authorization_code" in exchange.request_body
    assert "grant_type=refresh_token" in refresh.request_body
    for name in ("code", "client_secret"):
        assert f"{name}=[redacted]" in exchange.request_body, exchange.request_body
    assert "refresh_token=[redacted]" in refresh.request_body
    for log in logs:
        answer = json.loads(log.response_body)
        assert answer["access_token"] == answer["refresh_token"] == "[redacted]"
        assert answer["expires_in"] > 0  # what is not secret stays readable
        text = _everything(log)
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"secret values in the token request log: {leaked}"


def test_successful_token_requests_are_not_logged_when_logging_is_off(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider, identifier="timely-quiet", log_requests=False)
    _grant(signed_in, oauth_provider, client)
    _expire(client)
    oauth.access_token(client)
    assert _token_logs(client, oauth_provider.token_url) == []


def test_a_refused_refresh_is_always_logged_without_the_refresh_token(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider, identifier="timely-revoked", log_requests=False)
    _grant(signed_in, oauth_provider, client)
    revoked = "revoked-refresh-token-Zq81x"
    HttpClient.objects.filter(pk=client.pk).update(tokens={**client.tokens, "refresh_token": revoked})
    client.refresh_from_db()
    _expire(client)
    with pytest.raises(oauth.NeedsGrant):
        oauth.access_token(client)
    [log] = _token_logs(client, oauth_provider.token_url)
    assert log.status == 400 and "invalid_grant" in log.error
    assert "refresh_token=[redacted]" in log.request_body
    text = _everything(log)
    assert revoked not in text and oauth_provider.client_secret not in text


def test_wrong_client_secret_is_a_token_refresh_failure_that_says_what_to_check(
    signed_in, oauth_provider, dashboard_url
):
    client = make_oauth_client(oauth_provider, identifier="timely-badsecret")
    _grant(signed_in, oauth_provider, client)
    wrong = "not-the-client-secret-Pw93"
    client.secrets = {"client_secret": wrong}
    client.save()
    _expire(client)
    with pytest.raises(TokenRefreshFailed) as caught, ClientSession(client) as session:
        session.call("GET /1.1/accounts")
    message = str(caught.value)
    assert "could not be refreshed" in message and "Client Secret" in message
    assert wrong not in message and client.tokens["refresh_token"] not in message
    [log] = _token_logs(client, oauth_provider.token_url)
    assert log.status == 401 and wrong not in _everything(log)


def test_unreachable_token_endpoint_is_a_clear_connection_error(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider, identifier="timely-offline")
    _grant(signed_in, oauth_provider, client)
    old = dict(client.tokens)
    _point_token_url(client, UNREACHABLE)
    _expire(client)
    with pytest.raises(TokenUnavailable) as caught, ClientSession(client) as session:
        session.call("GET /1.1/accounts")
    error = caught.value
    # A ConnectionFailed: the engine retries it later instead of failing the task for good.
    assert isinstance(error, ConnectionFailed) and not isinstance(error, CredentialsError)
    message = str(error)
    assert "the token endpoint of Timely could not be reached" in message
    assert "connection refused" in message and "Token URL" in message and "no new Grant access" in message
    assert error.url == UNREACHABLE and error.method == "POST"
    for value in (oauth_provider.client_secret, old["access_token"], old["refresh_token"]):
        assert value not in message
    stored = HttpClient.objects.get(pk=client.pk)
    assert stored.tokens == old and stored.auth_state == "granted"  # nothing lost
    assert "could not be reached" in stored.last_error
    [log] = _token_logs(client, UNREACHABLE)  # logged although request logging is off
    assert log.status is None and "cannot be reached" in log.error
    assert old["refresh_token"] not in _everything(log) and oauth_provider.client_secret not in _everything(log)


def test_a_token_endpoint_answering_5xx_is_unavailable_too(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider, identifier="timely-5xx")
    _grant(signed_in, oauth_provider, client)
    with FakeTimely() as down:
        down.fail_next(503, body="<html>maintenance</html>", headers={"Content-Type": "text/html"})
        _point_token_url(client, down.origin + "/oauth/token")
        _expire(client)
        with pytest.raises(TokenUnavailable, match="it answered HTTP 503"), ClientSession(client) as session:
            session.call("GET /1.1/accounts")
        assert down.received[0].method == "POST" and down.received[0].path == "/oauth/token"
        [log] = _token_logs(client, down.origin)
    assert log.status == 503 and "maintenance" in log.response_body


def test_a_token_endpoint_answering_5xx_with_an_oauth_error_body_is_unavailable_too(
    signed_in, oauth_provider, dashboard_url
):
    """A JSON {"error": ...} on a 5xx is the provider's outage, not a refused refresh: the grant stays."""
    client = make_oauth_client(oauth_provider, identifier="timely-5xx-json")
    _grant(signed_in, oauth_provider, client)
    old = dict(client.tokens)
    with FakeTimely() as down:
        down.fail_next(500, body={"error": "server_error"})
        _point_token_url(client, down.origin + "/oauth/token")
        _expire(client)
        with pytest.raises(TokenUnavailable, match="it answered HTTP 500"), ClientSession(client) as session:
            session.call("GET /1.1/accounts")
    stored = HttpClient.objects.get(pk=client.pk)
    assert stored.tokens == old and stored.auth_state == "granted"

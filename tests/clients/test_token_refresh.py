"""Token refresh: before expiry, on force after a 401, once per client across workers,
rotated tokens saved, invalid_grant turned into a visible "Needs grant"."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clients import oauth
from clients.http import AccessNotGranted, ClientSession
from clients.models import HttpClient

pytestmark = pytest.mark.django_db(transaction=True)


def _expire(client: HttpClient) -> None:
    HttpClient.objects.filter(pk=client.pk).update(token_expires_at=timezone.now() - timedelta(seconds=5))
    client.refresh_from_db()


def _refreshes(provider) -> int:
    return provider.token_requests().get("refresh_token", 0)


def test_a_fresh_token_is_used_as_is(granted_timely, oauth_provider):
    before = _refreshes(oauth_provider)
    assert oauth.access_token(granted_timely) == granted_timely.tokens["access_token"]
    assert _refreshes(oauth_provider) == before


def test_token_near_expiry_is_refreshed_and_rotated(granted_timely, oauth_provider):
    old = dict(granted_timely.tokens)
    HttpClient.objects.filter(pk=granted_timely.pk).update(token_expires_at=timezone.now() + timedelta(seconds=30))
    granted_timely.refresh_from_db()
    before = _refreshes(oauth_provider)
    token = oauth.access_token(granted_timely)
    assert _refreshes(oauth_provider) == before + 1
    stored = HttpClient.objects.get(pk=granted_timely.pk)
    assert token == stored.tokens["access_token"] != old["access_token"]
    assert stored.tokens["refresh_token"] != old["refresh_token"]  # the provider rotates them
    assert stored.token_expires_at > timezone.now() + timedelta(minutes=30)
    with ClientSession(stored) as session:
        assert session.call("GET /1.1/accounts").status == 200


def test_two_workers_refresh_exactly_once(granted_timely, oauth_provider):
    _expire(granted_timely)
    before = _refreshes(oauth_provider)
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            mine = HttpClient.objects.get(pk=granted_timely.pk)  # each worker loads its own copy
            barrier.wait(timeout=10)
            results.append(oauth.access_token(mine))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert _refreshes(oauth_provider) == before + 1
    assert len(results) == 2 and results[0] == results[1]
    stored = HttpClient.objects.get(pk=granted_timely.pk)
    assert stored.tokens["access_token"] == results[0]
    with ClientSession(stored) as session:
        assert session.call("GET /1.1/accounts").data[0]["name"] == "Acme Timely"


def test_force_refresh_after_401_skips_when_another_worker_already_refreshed(granted_timely, oauth_provider):
    stale = HttpClient.objects.get(pk=granted_timely.pk)  # a worker holding the old token
    fresh = oauth.access_token(HttpClient.objects.get(pk=granted_timely.pk), force_refresh=True)
    before = _refreshes(oauth_provider)
    assert oauth.access_token(stale, force_refresh=True) == fresh
    assert _refreshes(oauth_provider) == before


def test_invalid_grant_marks_needs_grant_with_the_reason(granted_timely, oauth_provider, signed_in):
    tokens = {**granted_timely.tokens, "refresh_token": "revoked-refresh-token-123"}
    HttpClient.objects.filter(pk=granted_timely.pk).update(tokens=tokens)
    granted_timely.refresh_from_db()
    _expire(granted_timely)
    with pytest.raises(oauth.NeedsGrant) as caught:
        oauth.access_token(granted_timely)
    assert "invalid_grant" in str(caught.value)
    assert "revoked-refresh-token-123" not in str(caught.value)
    stored = HttpClient.objects.get(pk=granted_timely.pk)
    assert stored.auth_state == "needs_grant" and "invalid_grant" in stored.auth_error
    page = signed_in.get(reverse("clients:list")).content.decode()
    assert "Needs grant" in page and "invalid_grant" in page
    # Through the HTTP seam it is an AccessNotGranted that says what to do.
    with pytest.raises(AccessNotGranted, match="Grant access to Timely"):
        with ClientSession(stored) as session:
            session.call("GET /1.1/accounts")


def test_unreachable_token_endpoint_keeps_the_tokens(granted_timely):
    old = dict(granted_timely.tokens)
    HttpClient.objects.filter(pk=granted_timely.pk).update(
        settings={**granted_timely.settings, "token_url": "http://127.0.0.1:9/o/token/"})
    granted_timely.refresh_from_db()
    _expire(granted_timely)
    with pytest.raises(oauth.OAuthError, match="cannot be reached"):
        oauth.access_token(granted_timely)
    stored = HttpClient.objects.get(pk=granted_timely.pk)
    assert stored.tokens == old and stored.auth_state == "granted"


def test_no_refresh_token_needs_a_grant(granted_timely):
    HttpClient.objects.filter(pk=granted_timely.pk).update(
        tokens={"access_token": "only-an-access-token"}, token_expires_at=timezone.now() - timedelta(minutes=1))
    granted_timely.refresh_from_db()
    with pytest.raises(oauth.NeedsGrant):
        oauth.access_token(granted_timely)
    assert HttpClient.objects.get(pk=granted_timely.pk).auth_state == "needs_grant"


def test_list_shows_when_the_token_refreshes(granted_timely, signed_in):
    HttpClient.objects.filter(pk=granted_timely.pk).update(
        token_expires_at=timezone.now() + timedelta(minutes=43, seconds=30))
    page = signed_in.get(reverse("clients:list")).content.decode()
    assert "Access granted, refreshes in 43 min" in page


def test_a_refresh_needed_by_a_run_is_logged_on_that_run(granted_timely, oauth_provider):
    from connections.models import Incoming, Run

    HttpClient.objects.filter(pk=granted_timely.pk).update(log_requests=True)
    _expire(granted_timely)
    incoming = Incoming.objects.create(name="Timely accounts", identifier="timely-accounts", platform="timely",
                                       method="GET", entity="GET /1.1/accounts", client=granted_timely)
    run = Run.objects.create(incoming=incoming)
    before = _refreshes(oauth_provider)

    with ClientSession(granted_timely, run=run) as session:
        assert session.call("GET /1.1/accounts").status == 200

    assert _refreshes(oauth_provider) == before + 1
    token_log = run.request_logs.get(method="POST")  # the refresh, then the call itself
    assert token_log.url.endswith("/o/token/") and token_log.status == 200
    assert run.request_logs.filter(method="GET", status=200).count() == 1

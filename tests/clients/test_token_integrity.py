"""Tokens stay intact while people edit clients, no lock is held across a token request,
a token request has a total time bound, and a failing refresh is shown and survived."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clients import oauth
from clients.http import ClientSession, TokenAnswerLost
from clients.models import HttpClient
from tests.conftest import PASSWORD

from .token_endpoint import TokenEndpoint

pytestmark = pytest.mark.django_db(transaction=True)


def _expire(client: HttpClient, seconds: int = -5) -> None:
    HttpClient.objects.filter(pk=client.pk).update(token_expires_at=timezone.now() + timedelta(seconds=seconds))
    client.refresh_from_db()


def _point_token_url(client: HttpClient, url: str) -> None:
    HttpClient.objects.filter(pk=client.pk).update(settings={**client.settings, "token_url": url})
    client.refresh_from_db()


def _refresh_in_background(client: HttpClient) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["token"] = oauth.access_token(HttpClient.objects.get(pk=client.pk))
        except Exception as exc:  # noqa: BLE001 - reported by the test
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _edit_form(client: HttpClient, **changes) -> dict:
    data = {"name": client.name, "identifier": client.identifier, "client_secret": "", **client.settings}
    data.update(changes)
    return data


def test_saving_the_client_while_a_refresh_is_answered_keeps_the_new_tokens(signed_in, granted_timely, settings):
    settings.TOKEN_REQUEST_TIMEOUT = 300  # the held answer must outlast slow page requests on a loaded machine
    client = granted_timely
    old = dict(client.tokens)
    with TokenEndpoint() as endpoint:
        _point_token_url(client, endpoint.url)
        _expire(client)
        endpoint.gate.clear()
        thread, outcome = _refresh_in_background(client)
        assert endpoint.received.wait(60), "the refresh never reached the token endpoint"
        # The edit form and the admin both save the client while the token endpoint answers.
        edit = signed_in.post(reverse("clients:edit", args=[client.identifier]), _edit_form(client, name="Renamed"))
        assert edit.status_code == 302, edit.content.decode()[:500]
        admin = signed_in.post(reverse("admin:clients_httpclient_change", args=[client.pk]), {
            "name": "Renamed again", "identifier": client.identifier, "platform": "timely",
            "settings": json.dumps(client.settings),
        })
        assert admin.status_code == 302, admin.content.decode()[:500]
        endpoint.gate.set()
        thread.join(120)
    assert "error" not in outcome, outcome
    stored = HttpClient.objects.get(pk=client.pk)
    assert stored.name == "Renamed again"
    assert stored.tokens["access_token"] == outcome["token"] == "issued-access-0001-abcdef"
    assert stored.tokens["refresh_token"] == "issued-refresh-0001-abcdef" != old["refresh_token"]
    assert stored.auth_state == "granted" and stored.refresh_claim == ""


def test_no_database_lock_is_held_while_the_token_endpoint_answers(granted_timely, consultant, settings):
    settings.TOKEN_REQUEST_TIMEOUT = 300  # the held answer must outlast a slow sign-in on a loaded machine
    client = granted_timely
    with TokenEndpoint() as endpoint:
        _point_token_url(client, endpoint.url)
        _expire(client)
        endpoint.gate.clear()
        thread, outcome = _refresh_in_background(client)
        assert endpoint.received.wait(60)
        # Writes to the same row and elsewhere go through while the refresh waits for its answer.
        assert HttpClient.objects.filter(pk=client.pk).update(log_requests=True) == 1
        browser = Client()
        signed = browser.post(reverse("login"), {"username": consultant.username, "password": PASSWORD})
        assert signed.status_code == 302 and browser.get(reverse("clients:list")).status_code == 200
        assert not endpoint.gate.is_set() and thread.is_alive()  # the refresh really was still waiting
        endpoint.gate.set()
        thread.join(120)
    assert outcome.get("token") == "issued-access-0001-abcdef", outcome


def test_a_token_request_has_a_total_time_bound(granted_timely, settings):
    settings.TOKEN_REQUEST_TIMEOUT = 3  # the answer trickles a byte every half second for far longer
    client = granted_timely
    old = dict(client.tokens)
    with TokenEndpoint(trickle=True) as endpoint:
        _point_token_url(client, endpoint.url)
        _expire(client)
        with pytest.raises(oauth.TokenEndpointUnreachable) as caught:
            oauth.access_token(client)
    assert "TOKEN_REQUEST_TIMEOUT" in str(caught.value)
    stored = HttpClient.objects.get(pk=client.pk)
    assert stored.tokens == old and stored.refresh_claim == "" and stored.refresh_claimed_until is None


def test_an_early_refresh_that_fails_keeps_using_the_valid_token_and_the_badge_says_so(granted_timely, signed_in):
    client = granted_timely
    held = client.tokens["access_token"]
    _point_token_url(client, "http://127.0.0.1:9/o/token/")  # nothing listens there
    _expire(client, seconds=30)  # still valid, but inside the refresh margin
    assert oauth.access_token(client) == held
    with ClientSession(HttpClient.objects.get(pk=client.pk)) as session:  # the token still opens the API
        assert session.call("GET /1.1/accounts").status == 200
    stored = HttpClient.objects.get(pk=client.pk)
    assert "cannot be reached" in stored.refresh_error and stored.refresh_failed_at is not None
    listing = signed_in.get(reverse("clients:list")).content.decode()
    assert "refreshing the token fails" in listing and "refreshes in" not in listing
    page = signed_in.get(reverse("clients:detail", args=[client.identifier])).content.decode()
    assert "The last token refresh failed" in page and "connection refused" in page
    # Once the endpoint answers again, a refresh succeeds and the warning goes.
    _point_token_url(client, _provider_token_url(client))
    assert oauth.access_token(HttpClient.objects.get(pk=client.pk), force_refresh=True) != held
    stored = HttpClient.objects.get(pk=client.pk)
    assert stored.refresh_error == "" and stored.refresh_failed_at is None
    assert "refreshes in" in signed_in.get(reverse("clients:list")).content.decode()


def _provider_token_url(client: HttpClient) -> str:
    return client.settings["authorize_url"].replace("/o/authorize/", "/o/token/")


def test_a_refresh_whose_answer_is_lost_does_not_promise_that_no_grant_is_needed(granted_timely, oauth_provider):
    """The provider rotated the refresh token, but its answer never arrived: say what may follow."""
    client = granted_timely
    with TokenEndpoint(forward_to=oauth_provider.token_url, drop_answer=True) as proxy:
        _point_token_url(client, proxy.url)
        _expire(client)
        with pytest.raises(TokenAnswerLost) as caught, ClientSession(client) as session:
            session.call("GET /1.1/accounts")
    message = str(caught.value)
    assert "no new Grant access is needed" not in message
    assert "may have reached the provider" in message and "Grant access" in message
    # And indeed: the provider replaced the refresh token, so the next refresh is refused.
    _point_token_url(client, oauth_provider.token_url)
    with pytest.raises(oauth.NeedsGrant, match="invalid_grant"):
        oauth.access_token(HttpClient.objects.get(pk=client.pk))


def test_urls_are_stored_exactly_as_typed(signed_in, granted_timely, oauth_provider):
    client = granted_timely
    typed = {"token_url": oauth_provider.token_url, "authorize_url": oauth_provider.authorize_url,
             "base_uri": oauth_provider.origin + "/"}
    assert typed["token_url"].endswith("/o/token/")
    response = signed_in.post(reverse("clients:edit", args=[client.identifier]), _edit_form(client, **typed))
    assert response.status_code == 302, response.content.decode()[:500]
    stored = HttpClient.objects.get(pk=client.pk)
    assert {k: stored.settings[k] for k in typed} == typed
    # The trailing slashes are what django-oauth-toolkit needs: a refresh through them works.
    _expire(stored)
    assert oauth.access_token(stored)
    with ClientSession(stored) as session:
        assert session.call("GET /1.1/accounts").status == 200  # "/" + "/1.1/..." is not doubled


def test_the_model_refuses_to_save_tokens_changed_in_memory(granted_timely):
    client = HttpClient.objects.get(pk=granted_timely.pk)
    client.tokens = {"access_token": "typed-over"}
    with pytest.raises(ValueError, match="written by the token code only"):
        client.save()
    stale = HttpClient.objects.get(pk=granted_timely.pk)  # loaded before a refresh
    fresh = oauth.access_token(HttpClient.objects.get(pk=granted_timely.pk), force_refresh=True)
    stale.name = "Renamed"
    stale.save()
    stored = HttpClient.objects.get(pk=granted_timely.pk)
    assert stored.name == "Renamed" and stored.tokens["access_token"] == fresh


def test_four_processes_needing_a_refresh_cause_exactly_one(granted_timely, oauth_provider, tmp_path, settings):
    """Separate OS processes (as workers are) share one refresh through the lease on the client's row."""
    import os
    import subprocess
    import sys
    import time

    from tests.support.worker import BASE_DIR, worker_database_url

    client = granted_timely
    proxy = TokenEndpoint(forward_to=oauth_provider.token_url).__enter__()  # holds the answer: others must wait
    _point_token_url(client, proxy.url)
    _expire(client)
    before = oauth_provider.token_requests().get("refresh_token", 0)
    go = tmp_path / "go"
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "SECRET_KEY": settings.SECRET_KEY,
           "DJANGO_SETTINGS_MODULE": "alumio_lite.settings"}
    if settings.ENCRYPTION_KEYS:
        env["ENCRYPTION_KEYS"] = ",".join(settings.ENCRYPTION_KEYS)
    procs = [subprocess.Popen([sys.executable, "-m", "tests.clients.refresh_process", str(client.pk), str(go)],
                              cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    try:
        for proc in procs:  # all four set up and waiting, then released at once
            line = proc.stdout.readline()
            assert line.strip() == "READY", line + proc.stderr.read()
        proxy.gate.clear()
        go.write_text("go")
        assert proxy.received.wait(60)
        time.sleep(2)  # the other three find the lease taken meanwhile (not asserted: a slow machine may lag)
        proxy.gate.set()
        outputs = [proc.communicate(timeout=120) for proc in procs]
    finally:
        proxy.__exit__(None, None, None)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    tokens = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        tokens.append(out.split("TOKEN ", 1)[1].strip())
    assert len(proxy.requests) == 1 and oauth_provider.token_requests().get("refresh_token", 0) == before + 1
    stored = HttpClient.objects.get(pk=client.pk)
    assert set(tokens) == {stored.tokens["access_token"]} and stored.refresh_claim == ""

"""Secrets follow their host; the outbound policy keeps calls off private addresses.

Two real fake Pipedrives on 127.0.0.1: the client's own, and an "attacker" whose host an edit
tries to point the client at. Whatever happens, the attacker never receives the stored token.
"""
from __future__ import annotations

import socket

import pytest
from django.test import override_settings
from django.urls import reverse

from clients import outbound
from clients.models import HttpClient
from tests.fakes.fixtures import fake_platform  # noqa: F401

pytestmark = pytest.mark.django_db

STORED = "pd-token-9a8b7c6d5e4f"  # the fake's default token, stored on the client


@pytest.fixture
def own_and_attacker(fake_platform):  # noqa: F811
    own = fake_platform("pipedrive")
    attacker = fake_platform("pipedrive", api_token="whatever-the-attacker-wants")
    return own, attacker, own.make_client("pd")


def _edit(client, identifier: str, base_uri: str, **extra):
    return client.post(reverse("clients:edit", args=[identifier]), {
        "name": "Pipedrive", "identifier": identifier, "base_uri": base_uri, "auth_type": "api_token", **extra})


def _tokens_seen(fake) -> list[str]:
    return [r.header("x-api-token") or r.header("Authorization") or "" for r in fake.received]


def test_an_editor_cannot_point_a_client_elsewhere(client, editor, own_and_attacker):
    own, attacker, pd = own_and_attacker
    client.force_login(editor)
    refused = _edit(client, "pd", attacker.base_uri)  # Editors edit clients, but never their addresses
    assert refused.status_code == 200 and "Only an Admin can change Base URI" in refused.content.decode()
    pd.refresh_from_db()
    assert pd.settings["base_uri"] == own.base_uri
    response = client.post(reverse("clients:test", args=["pd"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Connected" in response.content.decode()
    assert attacker.received == [] and STORED in _tokens_seen(own)


def test_changing_the_host_asks_for_the_secret_again(client, admin_user, own_and_attacker):
    own, attacker, pd = own_and_attacker
    client.force_login(admin_user)
    response = _edit(client, "pd", attacker.base_uri)
    assert response.status_code == 200
    assert "The address changed: type API Token again" in response.content.decode()
    pd.refresh_from_db()
    assert pd.settings["base_uri"] == own.base_uri and pd.secrets["api_token"] == STORED
    client.post(reverse("clients:test", args=["pd"]), HTTP_HX_REQUEST="true")
    assert attacker.received == []

    # Typed again for the new host: saved, and only the new value ever goes there.
    assert _edit(client, "pd", attacker.base_uri, api_token="typed-for-the-new-host").status_code == 302
    client.post(reverse("clients:test", args=["pd"]), HTTP_HX_REQUEST="true")
    assert _tokens_seen(attacker) == ["typed-for-the-new-host"]
    assert STORED not in str([r.headers for r in attacker.received])


def test_same_host_keeps_the_stored_secret(client, admin_user, own_and_attacker):
    own, attacker, pd = own_and_attacker
    client.force_login(admin_user)
    assert _edit(client, "pd", own.base_uri + "/").status_code == 302
    pd.refresh_from_db()
    assert pd.secrets["api_token"] == STORED


def test_a_new_host_drops_oauth_tokens(client, admin_user, own_and_attacker):
    own, attacker, pd = own_and_attacker
    HttpClient.objects.filter(pk=pd.pk).update(
        settings={**pd.settings, "auth_type": "oauth2", "client_id": "app"}, secrets={"client_secret": "cs-1"},
        tokens={"access_token": "at-canary-1", "refresh_token": "rt-canary-1"}, auth_state="granted")
    client.force_login(admin_user)
    assert _edit(client, "pd", attacker.base_uri, auth_type="oauth2", client_id="app",
                 client_secret="cs-typed-again").status_code == 302
    pd.refresh_from_db()
    assert pd.tokens == {} and pd.auth_state == "needs_grant"
    client.post(reverse("clients:test", args=["pd"]), HTTP_HX_REQUEST="true")
    assert "at-canary-1" not in str([r.headers for r in attacker.received])


def test_duplicate_copies_no_secret(client, admin_user, own_and_attacker):
    own, attacker, pd = own_and_attacker
    client.force_login(admin_user)
    response = client.post(reverse("clients:duplicate", args=["pd"]))
    copy = HttpClient.objects.exclude(pk=pd.pk).get()
    assert copy.secrets == {} and copy.tokens == {}
    assert response["Location"] == reverse("clients:edit", args=[copy.identifier])


# -- outbound policy ------------------------------------------------------------------------
@override_settings(ALLOW_PRIVATE_NETWORK=False)
@pytest.mark.parametrize("base_uri, words", [
    ("http://169.254.169.254/latest/meta-data", "link-local"),
    ("http://127.0.0.1:8000/api", "loopback"),
    ("http://10.1.2.3/api", "private"),
    ("http://localhost:8000/api", "this server itself"),
    ("https://user:pw@acme.pipedrive.com/api", "user:password"),
])
def test_production_refuses_private_base_uris(client, admin_user, own_and_attacker, base_uri, words):
    client.force_login(admin_user)
    response = _edit(client, "pd", base_uri, api_token="x-typed")
    assert response.status_code == 200
    body = response.content.decode()
    assert words in body and "ALLOW_PRIVATE_NETWORK" in body


def test_local_development_allows_them(client, admin_user, own_and_attacker):
    with override_settings(ALLOW_PRIVATE_NETWORK=True):
        client.force_login(admin_user)
        assert _edit(client, "pd", "http://127.0.0.1:8000/api", api_token="x-typed").status_code == 302


def test_connect_time_check_follows_dns(client, editor, own_and_attacker):
    """A saved name that resolves to a private address is refused when called, before anything is sent."""
    own, attacker, pd = own_and_attacker
    port = attacker.base_uri.split(":")[2].split("/")[0]
    HttpClient.objects.filter(pk=pd.pk).update(settings={**pd.settings, "base_uri": f"http://localhost:{port}/api"})
    client.force_login(editor)
    with override_settings(ALLOW_PRIVATE_NETWORK=False):
        body = client.post(reverse("clients:test", args=["pd"]), HTTP_HX_REQUEST="true").content.decode()
    assert "loopback" in body and "ALLOW_PRIVATE_NETWORK" in body
    assert attacker.received == []


def test_connect_time_check_pins_the_address(monkeypatch, own_and_attacker):
    """DNS answering a public address first and 127.0.0.1 on the connection's own lookup is still refused."""
    from clients.http import ClientSession, PlatformError

    own, attacker, pd = own_and_attacker
    port = int(attacker.base_uri.split(":")[2].split("/")[0])
    real = socket.getaddrinfo
    answers = iter(["93.184.215.14", "127.0.0.1"])

    def rebinding(host, *args, **kwargs):
        if host == "rebind.example":
            return real(next(answers, "127.0.0.1"), *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", rebinding)
    pd.settings = {**pd.settings, "base_uri": f"http://rebind.example:{port}/api"}
    with override_settings(ALLOW_PRIVATE_NETWORK=False), ClientSession(pd, max_retries=0) as session:
        with pytest.raises(PlatformError) as caught:
            session.call("GET /v1/users/me")
    assert "rebind.example resolves to 127.0.0.1 is a loopback address" in str(caught.value)
    assert attacker.received == []


def test_files_given_by_url_obey_the_policy(own_and_attacker):
    """A payload's {"url": ...} file is fetched by the server: no private address under the production profile."""
    from clients.http import ClientSession, ConnectionFailed

    own, attacker, pd = own_and_attacker
    with override_settings(ALLOW_PRIVATE_NETWORK=False), ClientSession(pd) as session:
        with pytest.raises(ConnectionFailed, match="loopback"):
            session.fetch_file(attacker.base_uri + "/internal-file")
    assert attacker.received == []

"""List, client page, edit, duplicate, delete and Test connection."""
from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from clients.models import HttpClient

pytestmark = pytest.mark.django_db


def _msgs(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_list_search_and_platform_filter(signed_in):
    HttpClient.objects.create(name="Picqer prod", identifier="picqer-prod", platform="picqer")
    HttpClient.objects.create(name="Copper sales", identifier="copper-sales", platform="copper",
                              settings={"auth_type": "api_keys"}, secrets={"pw_access_token": "x"})
    page = signed_in.get(reverse("clients:list")).content.decode()
    assert "Picqer prod" in page and "Copper sales" in page and "API key set" in page
    page = signed_in.get(reverse("clients:list"), {"platform": "copper"}).content.decode()
    assert "Copper sales" in page and "Picqer prod" not in page
    partial = signed_in.get(reverse("clients:list"), {"q": "prod"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Picqer prod" in partial and "Copper sales" not in partial and "<html" not in partial


def test_edit_blank_secret_keeps_the_stored_one(signed_in):
    client = HttpClient.objects.create(name="P", identifier="p", platform="picqer",
                                       settings={"base_uri": "https://a.picqer.com/api/v1"},
                                       secrets={"api_key": "stored-key-1234"})
    response = signed_in.post(reverse("clients:edit", args=["p"]), {
        "name": "P renamed", "identifier": "p-renamed", "base_uri": "https://a.picqer.com/api/v1/", "api_key": ""})
    assert response.status_code == 302
    client.refresh_from_db()
    assert (client.name, client.identifier) == ("P renamed", "p-renamed")
    assert client.settings["base_uri"] == "https://a.picqer.com/api/v1/"  # as typed; same host: keeps the key
    # typed again (tests/accounts/test_exfiltration.py)
    assert client.secrets == {"api_key": "stored-key-1234"}


def test_edit_errors_keep_a_newly_typed_secret(signed_in):
    client = HttpClient.objects.create(name="P", identifier="p", platform="picqer",
                                       settings={"base_uri": "https://a.picqer.com/api/v1"},
                                       secrets={"api_key": "stored-key-1234"})
    response = signed_in.post(reverse("clients:edit", args=["p"]), {
        "name": "P", "identifier": "p", "base_uri": "nope", "api_key": "new-key-5678"})
    assert response.status_code == 200 and "kept from your last input" in response.content.decode()
    signed_in.post(reverse("clients:edit", args=["p"]), {
        "name": "P", "identifier": "p", "base_uri": "https://a.picqer.com/api/v1", "api_key": ""})
    client.refresh_from_db()
    assert client.secrets == {"api_key": "new-key-5678"}


def test_switching_copper_to_oauth_needs_a_grant(signed_in):
    client = HttpClient.objects.create(name="C", identifier="c", platform="copper",
                                       settings={"base_uri": "https://api.copper.com/developer_api/v1",
                                                 "auth_type": "api_keys", "pw_user_email": "a@b.c"},
                                       secrets={"pw_access_token": "k"})
    response = signed_in.post(reverse("clients:edit", args=["c"]), {
        "name": "C", "identifier": "c", "base_uri": "https://api.copper.com/developer_api/v1",
        "auth_type": "oauth2", "client_id": "cid", "client_secret": "cs", "scopes": "developer/v1/all"})
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.auth_state == "needs_grant"
    page = signed_in.get(client.get_absolute_url()).content.decode()
    assert "Grant access to Copper" in page and "Needs grant" in page


def test_duplicate_copies_settings_but_not_secrets_or_tokens(signed_in):
    HttpClient.objects.create(name="T", identifier="t", platform="timely", settings={"client_id": "a"},
                              secrets={"client_secret": "s"}, tokens={"access_token": "tok"}, auth_state="granted")
    response = signed_in.post(reverse("clients:duplicate", args=["t"]))
    copy = HttpClient.objects.get(identifier="t-copy")
    assert response["Location"] == reverse("clients:edit", args=["t-copy"])
    assert copy.name == "T (copy)" and copy.settings == {"client_id": "a"}
    assert copy.secrets == {} and copy.tokens == {}
    assert copy.auth_state == "needs_grant"


def test_delete_asks_then_deletes(signed_in):
    HttpClient.objects.create(name="Gone", identifier="gone", platform="picqer")
    page = signed_in.get(reverse("clients:delete", args=["gone"])).content.decode()
    assert "cannot be undone" in page
    response = signed_in.post(reverse("clients:delete", args=["gone"]))
    assert response["Location"] == reverse("clients:list")
    assert not HttpClient.objects.filter(identifier="gone").exists()


def test_delete_is_refused_while_a_configuration_uses_the_client(signed_in):
    from connections.models import Incoming

    client = HttpClient.objects.create(name="Used", identifier="used", platform="picqer")
    Incoming.objects.create(name="Orders in", identifier="orders-in", platform="picqer",
                            entity="GET /orders", client=client)
    page = signed_in.get(reverse("clients:delete", args=["used"])).content.decode()
    assert "Orders in" in page and "cannot be deleted" in page
    response = signed_in.post(reverse("clients:delete", args=["used"]))
    assert "is used by Orders in" in _msgs(response)
    assert HttpClient.objects.filter(identifier="used").exists()


@pytest.mark.parametrize("name", ["picqer", "pipedrive", "connectwise", "copper"])
def test_test_connection_against_the_fake_platform(signed_in, fake_platform, name):
    fake = fake_platform(name)
    client = fake.make_client(f"{name}-fake")
    response = signed_in.post(reverse("clients:test", args=[client.identifier]), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "badge ok" in text and "Connected" in text, text
    assert any(r.path.endswith(("/users/me", "/system/info", "/account")) for r in fake.received)


def test_test_connection_shows_the_status_on_failure(signed_in, fake_picqer):
    client = fake_picqer.make_client("picqer-fake")
    client.secrets = {"api_key": "wrong-key-0000"}
    client.save()
    response = signed_in.post(reverse("clients:test", args=[client.identifier]), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "badge err" in text and "401" in text and "credentials" in text


def test_unknown_client_is_404(signed_in):
    assert signed_in.get(reverse("clients:detail", args=["nope"])).status_code == 404

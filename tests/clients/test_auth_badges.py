"""The authentication badge tells the truth: an API key the platform refused is shown as refused."""
from __future__ import annotations

import pytest
from django.urls import reverse

from clients.http import ClientError, ClientSession
from clients.models import HttpClient

pytestmark = pytest.mark.django_db


def _badge(signed_in, client: HttpClient) -> str:
    page = signed_in.get(reverse("clients:detail", args=[client.identifier])).content.decode()
    start = page.index('id="auth-state"')
    return page[start:page.index("</span>", start)].split(">", 1)[1]


def test_a_key_that_got_a_401_is_shown_as_refused_until_a_call_succeeds(signed_in, fake_picqer):
    client = fake_picqer.make_client("picqer-fake")
    HttpClient.objects.filter(pk=client.pk).update(secrets={"api_key": "revoked-key-0000"})
    client.refresh_from_db()
    assert _badge(signed_in, client) == "API key set"
    with pytest.raises(ClientError), ClientSession(client) as session:
        session.call("GET /customers")
    assert _badge(signed_in, client) == "API key refused"
    listing = signed_in.get(reverse("clients:list")).content.decode()
    assert "badge err" in listing and "API key refused" in listing and "API key set" not in listing
    stored = HttpClient.objects.get(pk=client.pk)
    assert "401" in stored.auth_error and "revoked-key-0000" not in stored.auth_error

    # A new key typed in the edit form clears the refusal; the next good call keeps it clear.
    response = signed_in.post(reverse("clients:edit", args=[client.identifier]), {
        "name": client.name, "identifier": client.identifier, **client.settings,
        "api_key": fake_picqer.client_secrets()["api_key"]})
    assert response.status_code == 302
    assert _badge(signed_in, client) == "API key set"
    client.refresh_from_db()
    with ClientSession(client) as session:
        assert session.call("GET /customers").status == 200
    assert HttpClient.objects.get(pk=client.pk).auth_state == "credentials"


def test_a_successful_call_clears_an_earlier_refusal(fake_picqer):
    client = fake_picqer.make_client("picqer-fake")
    HttpClient.objects.filter(pk=client.pk).update(auth_state="refused", auth_error="HTTP 401 earlier")
    client.refresh_from_db()
    with ClientSession(client) as session:  # the key was fixed at the platform's side
        assert session.call("GET /customers").status == 200
    stored = HttpClient.objects.get(pk=client.pk)
    assert stored.auth_state == "credentials" and stored.auth_error == ""

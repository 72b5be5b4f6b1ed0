"""Editors edit an HTTP Client's name and non-secret settings; secrets and addresses stay Admins'.

A real fake Pipedrive holds the stored token: whatever an Editor submits, that token keeps going
only to it, and a forged change of a secret or an address is refused with a field error (nothing saved).
"""
from __future__ import annotations

import pytest
from django.urls import reverse

from clients.models import HttpClient
from tests.fakes.fixtures import fake_platform  # noqa: F401

pytestmark = pytest.mark.django_db
STORED = "pd-token-9a8b7c6d5e4f"  # the fake's default token, stored on the client


@pytest.fixture
def pd(fake_platform):  # noqa: F811
    own = fake_platform("pipedrive")
    return own, own.make_client("pd")


def edit(client, fields: dict):
    return client.post(reverse("clients:edit", args=["pd"]), {"identifier": "pd", "auth_type": "api_token", **fields})


def input_tag(body: str, name: str) -> str:
    """The whole <input ...> tag of the field called `name`."""
    before, after = body.split(f'name="{name}"', 1)
    return before.rsplit("<", 1)[1] + after.split(">", 1)[0]


def test_an_editor_renames_and_changes_settings_keeping_secret_and_host(client, editor, pd):
    own, saved = pd
    client.force_login(editor)
    response = edit(client, {"name": "Pipedrive (sales)", "base_uri": own.base_uri, "log_requests": "on",
                             "rate_limit_per_minute": "30"})
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.name == "Pipedrive (sales)" and saved.log_requests and saved.rate_limit_per_minute == 30
    assert saved.settings["base_uri"] == own.base_uri and saved.secrets["api_token"] == STORED
    body = client.post(reverse("clients:test", args=["pd"]), HTTP_HX_REQUEST="true").content.decode()
    assert "Connected" in body and own.received[-1].header("x-api-token") == STORED


def test_an_address_not_submitted_is_kept(client, editor, pd):
    own, saved = pd
    client.force_login(editor)
    assert edit(client, {"name": "Renamed"}).status_code == 302
    saved.refresh_from_db()
    assert saved.name == "Renamed" and saved.settings["base_uri"] == own.base_uri


def test_the_editor_page_shows_secrets_and_addresses_locked(client, editor, pd):
    client.force_login(editor)
    body = client.get(reverse("clients:edit", args=["pd"])).content.decode()
    assert "only an Admin changes them" in body
    assert "readonly" in input_tag(body, "base_uri") and "disabled" in input_tag(body, "api_token")
    assert STORED not in body


@pytest.mark.parametrize("forged, words", [
    ({"base_uri": "https://attacker.example.com/api"}, "Only an Admin can change Base URI"),
    ({"api_token": "editor-typed-token"}, "Only an Admin can change API Token"),
])
def test_a_forged_change_of_a_secret_or_address_is_refused(client, editor, pd, forged, words):
    own, saved = pd
    client.force_login(editor)
    response = edit(client, {"name": "Should not be saved", "base_uri": own.base_uri, **forged})
    assert response.status_code == 200
    assert words in response.content.decode()
    saved.refresh_from_db()
    assert saved.name != "Should not be saved"
    assert saved.settings["base_uri"] == own.base_uri and saved.secrets["api_token"] == STORED


def test_admins_still_change_secrets_and_hosts(client, admin_user, pd):
    own, saved = pd
    client.force_login(admin_user)
    body = client.get(reverse("clients:edit", args=["pd"])).content.decode()
    assert "only an Admin changes them" not in body
    response = edit(client, {"name": "Pipedrive", "base_uri": own.base_uri, "api_token": "new-admin-token"})
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.secrets["api_token"] == "new-admin-token"


def test_editors_see_edit_but_not_duplicate_or_delete(client, editor, pd):
    client.force_login(editor)
    body = client.get(reverse("clients:detail", args=["pd"])).content.decode()
    assert ">Edit<" in body and "Duplicate" not in body and "/clients/pd/delete/" not in body
    assert client.post(reverse("clients:duplicate", args=["pd"])).status_code == 403
    assert client.post(reverse("clients:delete", args=["pd"])).status_code == 403
    assert HttpClient.objects.count() == 1

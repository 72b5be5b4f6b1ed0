"""The three-step create wizard with Django's test client: steps, Back, bad input, secrets."""
from __future__ import annotations

import re

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from clients.models import HttpClient
from clients.views.http_client_wizard import WIZARD_KEY

pytestmark = pytest.mark.django_db

SETTINGS = reverse("clients:create_settings")
NAME = reverse("clients:create_name")

# What a user types in step 2 for each platform (secrets are the ones to look for later).
TYPED = {
    "picqer": ({"base_uri": "https://acme.picqer.com/api/v1"}, {"api_key": "pq-SECRET-key-1111"}),
    "pipedrive": ({"base_uri": "https://acme.pipedrive.com/api", "auth_type": "api_token"},
                  {"api_token": "pd-SECRET-token-2222"}),
    "connectwise": ({"base_uri": "https://api-eu.myconnectwise.net/v4_6_release/apis/3.0", "company_id": "acme",
                     "public_key": "pubkey123", "client_id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
                    {"private_key": "cw-SECRET-private-4444"}),
    "timely": ({"base_uri": "https://api.timelyapp.com", "client_id": "timely-app-id",
                "authorize_url": "https://api.timelyapp.com/1.1/oauth/authorize",
                "token_url": "https://api.timelyapp.com/1.1/oauth/token"}, {"client_secret": "tm-SECRET-5555"}),
    "copper": ({"base_uri": "https://api.copper.com/developer_api/v1", "auth_type": "api_keys",
                "pw_application": "developer_api", "pw_user_email": "me@acme.test"},
               {"pw_access_token": "cp-SECRET-6666"}),
}


def _start(client, platform: str):
    client.get(reverse("clients:create") + "?restart=1")
    response = client.post(reverse("clients:create"), {"platform": platform})
    assert response.status_code == 302 and response["Location"] == SETTINGS
    return client.get(SETTINGS)


@pytest.mark.parametrize("platform", list(TYPED))
def test_wizard_creates_each_platform(signed_in, platform):
    step2 = _start(signed_in, platform).content.decode()
    assert "Next step" in step2 and "Enable request logging" in step2
    plain, secret = TYPED[platform]
    response = signed_in.post(SETTINGS, {**plain, **secret, "log_requests": "on"})
    assert response.status_code == 302 and response["Location"] == NAME, response.content.decode()[:2000]
    response = signed_in.post(NAME, {"name": f"Acme {platform.title()}", "identifier": ""})
    client = HttpClient.objects.get(platform=platform)
    assert response["Location"] == client.get_absolute_url()
    assert client.identifier == f"acme-{platform}"
    assert client.secrets == secret
    assert all(client.settings[k] == v for k, v in plain.items())
    assert client.log_requests is True
    assert client.auth_state == ("needs_grant" if platform == "timely" else "credentials")
    assert WIZARD_KEY not in signed_in.session


def test_step_2_prefills_defaults_and_help(signed_in):
    page = _start(signed_in, "timely").content.decode()
    assert 'value="https://api.timelyapp.com/1.1/oauth/token"' in page
    assert "Application Id of your OAuth application" in page


def test_copper_fields_depend_on_authentication_type(signed_in):
    _start(signed_in, "copper")
    # OAuth 2.0 chosen: the API key fields are not required, Client ID/Secret are.
    response = signed_in.post(SETTINGS, {"base_uri": "https://api.copper.com/developer_api/v1",
                                         "auth_type": "oauth2", "scopes": "developer/v1/all"})
    errors = response.context["form"].errors
    assert set(errors) == {"client_id", "client_secret"}
    response = signed_in.post(SETTINGS, {"base_uri": "https://api.copper.com/developer_api/v1",
                                         "auth_type": "oauth2", "client_id": "cid", "client_secret": "csecret-123",
                                         "scopes": "developer/v1/all"})
    assert response["Location"] == NAME
    signed_in.post(NAME, {"name": "Copper OAuth"})
    client = HttpClient.objects.get(identifier="copper-oauth")
    assert client.auth_state == "needs_grant"


def test_back_keeps_everything_typed_including_secrets(signed_in):
    _start(signed_in, "picqer")
    signed_in.post(SETTINGS, {"base_uri": "https://acme.picqer.com/api/v1", "api_key": "pq-SECRET-key-1111",
                              "log_requests": "on"})
    signed_in.post(NAME, {"name": "Half typed", "identifier": "half", "back": "1"})
    page = signed_in.get(SETTINGS).content.decode()
    assert 'value="https://acme.picqer.com/api/v1"' in page
    assert "kept from your last input" in page and "pq-SECRET-key-1111" not in page
    signed_in.post(SETTINGS, {"base_uri": "https://acme.picqer.com/api/v1", "back": "1"})
    step1 = signed_in.get(reverse("clients:create")).content.decode()
    assert 'value="picqer" ' in step1 and "checked" in step1
    signed_in.post(reverse("clients:create"), {"platform": "picqer"})
    # Secret left blank: the stashed one is kept.
    response = signed_in.post(SETTINGS, {"base_uri": "https://acme.picqer.com/api/v1", "log_requests": "on"})
    assert response["Location"] == NAME
    name_page = signed_in.get(NAME).content.decode()
    assert 'value="Half typed"' in name_page and 'value="half"' in name_page
    signed_in.post(NAME, {"name": "Half typed", "identifier": "half"})
    assert HttpClient.objects.get(identifier="half").secrets == {"api_key": "pq-SECRET-key-1111"}


def test_secrets_in_the_session_are_encrypted(signed_in):
    _start(signed_in, "picqer")
    signed_in.post(SETTINGS, {"base_uri": "https://acme.picqer.com/api/v1", "api_key": "pq-SECRET-key-1111"})
    session = Session.objects.get(session_key=signed_in.session.session_key)
    assert "pq-SECRET-key-1111" not in session.session_data
    assert "pq-SECRET-key-1111" not in str(session.get_decoded())


@pytest.mark.parametrize(("field", "value", "message"), [
    ("base_uri", "not a url", "cannot contain spaces"),
    ("base_uri", "acme.picqer.com/api/v1", "Enter a full URL"),
    ("base_uri", "https://{subdomain}.picqer.com/api/v1", "Replace {subdomain}"),
    ("base_uri", "ftp://acme.picqer.com", "Enter a full URL"),
    ("api_key", "pq-key\r\nX-Injected: 1", "line break"),
    ("api_key", "pq-kéy-1111", "non-ASCII"),
    ("base_uri", "", "Base URI is required"),
    ("api_key", "", "API Key is required"),
])
def test_bad_input_is_a_field_error_and_nothing_typed_is_lost(signed_in, field, value, message):
    _start(signed_in, "picqer")
    data = {"base_uri": "https://acme.picqer.com/api/v1", "api_key": "pq-SECRET-key-1111", "log_requests": "on"}
    data[field] = value
    response = signed_in.post(SETTINGS, data)
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert message in " ".join(form.errors[field])
    page = response.content.decode()
    if field != "base_uri":
        assert 'value="https://acme.picqer.com/api/v1"' in page
        assert not value or value not in page  # a rejected secret is not echoed either
    elif value:
        assert f'value="{value}"' in page
    if field != "api_key":  # the valid secret was stashed, encrypted
        assert "kept from your last input" in page and "pq-SECRET-key-1111" not in page
    assert re.search(r'<input type="checkbox" name="log_requests"[^>]*checked', page)


def test_duplicate_identifier_is_a_field_error(signed_in):
    HttpClient.objects.create(name="Existing", identifier="acme", platform="picqer")
    _start(signed_in, "picqer")
    signed_in.post(SETTINGS, {"base_uri": "https://acme.picqer.com/api/v1", "api_key": "pq-SECRET-key-1111"})
    response = signed_in.post(NAME, {"name": "Acme", "identifier": "acme"})
    assert response.status_code == 200
    assert "already used" in " ".join(response.context["form"].errors["identifier"])
    assert 'value="Acme"' in response.content.decode()
    # Left empty, a free one is derived.
    signed_in.post(NAME, {"name": "Acme", "identifier": ""})
    assert HttpClient.objects.filter(identifier="acme-2").exists()


@pytest.mark.parametrize("identifier", ["Not A Slug", "new", "oauth"])
def test_identifier_must_be_a_free_slug(signed_in, identifier):
    _start(signed_in, "picqer")
    signed_in.post(SETTINGS, {"base_uri": "https://acme.picqer.com/api/v1", "api_key": "pq-SECRET-key-1111"})
    response = signed_in.post(NAME, {"name": "Acme", "identifier": identifier})
    assert "identifier" in response.context["form"].errors


def test_steps_cannot_be_skipped(signed_in):
    signed_in.get(reverse("clients:create") + "?restart=1")
    assert signed_in.get(SETTINGS)["Location"] == reverse("clients:create")
    signed_in.post(reverse("clients:create"), {"platform": "picqer"})
    assert signed_in.get(NAME)["Location"] == SETTINGS


def test_unknown_platform_is_refused(signed_in):
    response = signed_in.post(reverse("clients:create"), {"platform": "salesforce"})
    assert response.status_code == 200 and "platform" in response.context["form"].errors


def test_pipedrive_oauth_is_an_option(signed_in):
    _start(signed_in, "pipedrive")
    response = signed_in.post(SETTINGS, {"base_uri": "https://acme.pipedrive.com/api", "auth_type": "oauth2",
                                         "client_id": "pd-app", "client_secret": "pd-app-secret"})
    assert response["Location"] == NAME
    signed_in.post(NAME, {"name": "Pipedrive OAuth"})
    client = HttpClient.objects.get(identifier="pipedrive-oauth")
    assert client.auth_state == "needs_grant"
    page = signed_in.get(client.get_absolute_url()).content.decode()
    assert "Grant access to Pipedrive" in page and "pd-app-secret" not in page

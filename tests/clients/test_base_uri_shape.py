"""Each platform's Base URI is checked for its shape, and Test connection tries every API it reaches.

Pipedrive's https://api.pipedrive.com/v1 and https://acme.pipedrive.com (no /api) used to be
saved and to pass Test connection (a v1 call), after which every v2 entity answered 404.
"""
from __future__ import annotations

import pytest
from django.urls import reverse

from clients.forms import ClientSettingsForm
from clients.platforms.registry import PLATFORMS, get_platform
from tests.fakes import FakePipedrive

pytestmark = pytest.mark.django_db

WRONG = {
    "pipedrive": ["https://api.pipedrive.com/v1", "https://acme.pipedrive.com", "https://acme.pipedrive.com/v2"],
    "picqer": ["https://acme.picqer.com", "https://acme.picqer.com/api"],
    "connectwise": ["https://api-eu.myconnectwise.net", "https://api-eu.myconnectwise.net/v4_6_release"],
    "timely": ["https://api.timelyapp.com/api/v1"],
    "copper": ["https://api.copper.com", "https://api.copper.com/developer_api"],
}
RIGHT = {
    "pipedrive": ["https://acme.pipedrive.com/api", "https://acme.pipedrive.com/api/", "https://acme.pipedrive.com/api/v1"],
    "picqer": ["https://acme.picqer.com/api/v1"],
    "connectwise": ["https://api-eu.myconnectwise.net/v4_6_release/apis/3.0", "https://cw.acme.nl/v2025_1/apis/3.0"],
    "timely": ["https://api.timelyapp.com", "https://api.timelyapp.com/1.1"],
    "copper": ["https://api.copper.com/developer_api/v1"],
}
SAYS = {
    "pipedrive": "type your company domain followed by /api, e.g. https://acme.pipedrive.com/api",
    "picqer": "followed by /api/v1",
    "connectwise": "codebase and /apis/3.0",
    "timely": "type https://api.timelyapp.com",
    "copper": "type https://api.copper.com/developer_api/v1",
}


def _base_uri_errors(slug: str, value: str) -> list[str]:
    platform = get_platform(slug)
    data = {f.name: f.default for f in platform.fields if not f.secret}
    data.update({f.name: "x-value-1234" for f in platform.fields if f.secret or (f.required and not f.default)})
    data.update({"base_uri": value, "pw_user_email": "me@acme.test"})
    form = ClientSettingsForm(data, platform=platform)
    form.is_valid()
    return form.errors.get("base_uri", [])


@pytest.mark.parametrize("slug,value", [(s, v) for s in WRONG for v in WRONG[s]])
def test_a_base_uri_of_the_wrong_shape_says_what_to_type(slug, value):
    errors = _base_uri_errors(slug, value)
    assert errors and SAYS[slug] in errors[0], errors


@pytest.mark.parametrize("slug,value", [(s, v) for s in RIGHT for v in RIGHT[s]])
def test_the_documented_shapes_are_accepted(slug, value):
    assert _base_uri_errors(slug, value) == []


def test_every_platform_checks_its_base_uri():
    assert set(WRONG) == set(PLATFORMS)
    for platform in PLATFORMS.values():
        assert platform.field("base_uri").path_pattern


def test_test_connection_refuses_a_saved_base_uri_without_api(signed_in):
    with FakePipedrive() as fake:
        client = fake.make_client("pd")
        client.settings = {**client.settings, "base_uri": fake.origin + "/v1"}  # v1 alone answers here
        client.save()
        text = signed_in.post(reverse("clients:test", args=["pd"]), HTTP_HX_REQUEST="true").content.decode()
    assert "badge err" in text and "followed by /api" in text
    assert not fake.received  # said before calling anything


def test_test_connection_calls_v1_and_v2(signed_in):
    with FakePipedrive() as fake:
        fake.make_client("pd")
        text = signed_in.post(reverse("clients:test", args=["pd"]), HTTP_HX_REQUEST="true").content.decode()
    assert "badge ok" in text and "Connected" in text, text
    assert [r.path for r in fake.received] == ["/api/v1/users/me", "/api/v2/pipelines"]


def test_test_connection_fails_when_v2_is_not_reached(signed_in):
    with FakePipedrive() as fake:
        fake.v2_missing = True
        fake.make_client("pd")
        text = signed_in.post(reverse("clients:test", args=["pd"]), HTTP_HX_REQUEST="true").content.decode()
    assert "badge err" in text and "GET /v2/pipelines got HTTP 404" in text and "/api" in text

"""The outgoing request preview: built by the code the engine uses, merge rule, redacted headers."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from clients.platforms.request import MissingPathParameter, UnknownPathParameter
from connections.preview import build_outgoing_request
from tests.fakes import FakeCopper, FakeTimely

from .conftest import make_client, make_outgoing

pytestmark = pytest.mark.django_db


def test_copper_create_a_new_company_seed():
    copper = make_client(
        "copper",
        settings={
            "base_uri": "https://api.copper.com/developer_api/v1",
            "auth_type": "api_keys",
            "user_email": "owner@example.com",
        },
        secrets={"access_token": "copper-secret-key-77"},
    )
    outgoing = make_outgoing(copper, "Create a New Company", payload={"name": "Default", "details": "base"})
    built = build_outgoing_request(outgoing, {"payload": {"name": "Acme"}})
    assert built.request.method == "POST"
    assert built.full_url == "https://api.copper.com/developer_api/v1/companies"
    assert built.request.json == {"name": "Acme", "details": "base"}
    assert built.headers["Content-Type"] == "application/json"
    assert built.headers["X-PW-AccessToken"] == "[redacted]"
    assert "copper-secret-key-77" not in json.dumps(built.headers)


def test_merge_rule_configuration_is_base_entity_overrides_key_by_key_path_from_entity():
    timely = make_client(
        "timely",
        settings={"base_uri": "https://api.timelyapp.com"},
        auth_state="granted",
        tokens={"access_token": "timely-token-abcdef"},
    )
    outgoing = make_outgoing(timely, "Create a client", query={"a": "1", "b": "2"}, payload={"client": {"name": "x"}})
    built = build_outgoing_request(
        outgoing, {"path": {"account_id": 123123}, "query": {"b": "3"}, "payload": {"extra": True}}
    )
    assert built.request.url == "https://api.timelyapp.com/1.1/123123/clients"
    assert built.request.params == {"a": "1", "b": "3"}
    assert built.request.json == {"client": {"name": "x"}, "extra": True}
    assert built.headers["Authorization"] == "[redacted]"
    assert "timely-token-abcdef" not in json.dumps(built.headers)


def test_path_parameters_come_from_the_entity_and_are_checked():
    timely = make_client("timely", auth_state="granted", tokens={"access_token": "t-123456"})
    outgoing = make_outgoing(timely, "Create a client")
    with pytest.raises(MissingPathParameter):
        build_outgoing_request(outgoing, {"payload": {}})
    with pytest.raises(UnknownPathParameter):
        build_outgoing_request(outgoing, {"path": {"account_id": 1, "other": 2}})


def test_the_preview_request_is_what_the_platform_receives():
    """Send the previewed request to the fake: same method, path, query and body arrive."""
    import requests

    with FakeCopper() as fake:
        copper = fake.make_client()
        outgoing = make_outgoing(copper, "Create a New Company", payload={"details": "base"})
        built = build_outgoing_request(outgoing, {"payload": {"name": "Acme"}, "query": {"dry": "1"}})
        # The preview shows headers redacted; send it with the real credentials from the fake.
        headers = {
            **built.headers,
            "X-PW-AccessToken": fake.api_key,
            "X-PW-UserEmail": fake.email,
            "X-PW-Application": "developer_api",
        }
        requests.request(built.request.method, built.full_url, json=built.request.json, headers=headers, timeout=5)
        [received] = fake.published
    assert (received.method, received.path) == ("POST", "/developer_api/v1/companies")
    assert received.query == {"dry": "1"}
    assert received.body == {"details": "base", "name": "Acme"}


def test_preview_page_shows_method_url_headers_body_and_errors(signed_in):
    with FakeTimely() as fake:
        outgoing = make_outgoing(fake.make_client(), "Create a client", payload={"client": {"name": "Acme"}})
    url = reverse("connections:outgoing_preview", args=[outgoing.pk])
    sample = json.dumps({"path": {"account_id": 123123}})
    body = signed_in.post(url, {"sample": sample}, HTTP_HX_REQUEST="true").content.decode()
    assert "/1.1/123123/clients" in body
    assert "[redacted]" in body and fake.access_token not in body
    assert "&quot;Acme&quot;" in body
    bad = signed_in.post(url, {"sample": "{\n oops"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Invalid JSON at line 2, column 2" in bad
    missing = signed_in.post(url, {"sample": "{}"}, HTTP_HX_REQUEST="true").content.decode()
    assert "account_id" in missing and "preview-error" in missing

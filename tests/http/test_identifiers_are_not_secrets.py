"""ConnectWise's clientId and Copper's X-PW-Application / X-PW-UserEmail identify, they do not
authenticate: the HTTP Client page shows them, and request logs keep them readable (the real
credentials next to them stay redacted)."""
from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import reverse

from clients.http import ClientSession
from clients.models import HttpClient, RequestLog
from clients.platforms.registry import get_platform
from clients.redaction import REDACTED
from tests.fakes import FakeConnectWise, FakeCopper

pytestmark = pytest.mark.django_db


def test_connectwise_client_id_is_an_ordinary_setting():
    assert not get_platform("connectwise").field("client_id").secret
    copper = get_platform("copper")
    assert not copper.field("pw_application").secret and not copper.field("pw_user_email").secret


def test_request_logs_show_the_identifiers_and_hide_the_credentials():
    with FakeConnectWise(records=3) as cw, FakeCopper(records=3) as copper:
        cw_client = cw.make_client("cw", log_requests=True)
        copper_client = copper.make_client("copper", log_requests=True)
        for client in (cw_client, copper_client):
            with ClientSession(client) as session:
                session.call(get_platform(client.platform).test_entity)
        cw_log = RequestLog.objects.get(client=cw_client)
        assert cw_log.request_headers["clientId"] == cw.client_id
        assert cw_log.request_headers["Authorization"] == REDACTED
        copper_log = RequestLog.objects.get(client=copper_client)
        assert copper_log.request_headers["X-PW-UserEmail"] == copper.email
        assert copper_log.request_headers["X-PW-Application"] == "developer_api"
        assert copper_log.request_headers["X-PW-AccessToken"] == REDACTED


def test_the_client_page_shows_the_connectwise_client_id(signed_in):
    with FakeConnectWise() as cw:
        client = cw.make_client("cw")
    page = signed_in.get(reverse("clients:detail", args=[client.identifier])).content.decode()
    assert cw.client_id in page
    edit = signed_in.get(reverse("clients:edit", args=[client.identifier])).content.decode()
    assert f'value="{cw.client_id}"' in edit  # an ordinary input, filled in; not a write-only secret


def test_saved_connectwise_clients_keep_their_client_id_as_a_setting():
    from importlib import import_module

    migration = import_module("clients.migrations.0003_connectwise_client_id_is_not_secret")
    old = HttpClient.objects.create(
        name="CW", identifier="cw-old", platform="connectwise",
        settings={"base_uri": "https://cw.test/v4_6_release/apis/3.0", "company_id": "acme", "public_key": "pub"},
        secrets={"private_key": "priv-secret-1", "client_id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
    )
    other = HttpClient.objects.create(name="P", identifier="p", platform="picqer", secrets={"api_key": "k-123456"})
    migration.forwards(apps, None)
    old.refresh_from_db()
    other.refresh_from_db()
    assert old.settings["client_id"] == "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    assert old.secrets == {"private_key": "priv-secret-1"}
    assert other.secrets == {"api_key": "k-123456"}
    migration.backwards(apps, None)
    old.refresh_from_db()
    assert "client_id" not in old.settings and old.secrets["client_id"].startswith("3f2504e0")

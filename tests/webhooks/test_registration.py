"""Register at the platform, against the local fake platforms: the request each one receives, and removal."""
from __future__ import annotations

import base64

import pytest

from tests.fakes.platforms import FAKES
from tests.fakes.server import Reply
from webhooks import presets
from webhooks.models import Webhook
from webhooks.registration import RegistrationError, public_url_problem, register, unregister

from .conftest import SECRET, make_webhook

PUBLIC = "https://alumio.example.com"


def answering_like(platform: str):
    """The platform's fake, answering a subscription create the way the platform's API reference shows."""
    base = FAKES[platform]

    class Fake(base):
        made = 40

        def destination(self, request):
            reply = super().destination(request)
            if request.method != "POST":
                return reply
            Fake.made += 1
            number = Fake.made
            if platform == "picqer":
                return Reply(201, {"idhook": number, **request.body})
            if platform == "pipedrive":
                return Reply(201, {"success": True, "data": {"id": number, **request.body}})
            if platform == "timely":
                return Reply(201, {"id": number, **request.body["webhook"]})
            return Reply(200 if platform == "copper" else 201, {"id": number, **request.body})

    return Fake


@pytest.fixture
def fake(request):
    fake_class = answering_like(request.param)
    with fake_class() as running:
        yield running


def writes(fake) -> list:
    return [r for r in fake.received if r.method in ("POST", "DELETE")]


@pytest.mark.parametrize("fake", ["picqer"], indirect=True)
def test_picqer_gets_one_hook_per_event_with_the_signing_secret(db, fake, settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    webhook = make_webhook("picqer")

    register(webhook, fake.make_client(), ["orders.created", "orders.completed"])

    posts = writes(fake)
    assert [(r.method, r.path) for r in posts] == [("POST", "/api/v1/hooks")] * 2
    assert posts[0].body == {"name": "alumio-lite picqer-events", "event": "orders.created",
                             "address": f"{PUBLIC}/webhooks/picqer-events", "secret": SECRET}
    assert posts[1].body["event"] == "orders.completed"
    assert posts[0].header("Authorization", "").startswith("Basic ")
    webhook.refresh_from_db()
    assert [s["id"] for s in webhook.registration["subscriptions"]] == ["41", "42"]

    unregister(webhook)

    assert [(r.method, r.path) for r in writes(fake)[2:]] == [("DELETE", "/api/v1/hooks/41"),
                                                              ("DELETE", "/api/v1/hooks/42")]
    webhook.refresh_from_db()
    assert webhook.registration == {} and webhook.registration_client is None


@pytest.mark.parametrize("fake", ["pipedrive"], indirect=True)
def test_pipedrive_gets_the_basic_credentials_it_will_send(db, fake, settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    webhook = make_webhook("pipedrive")

    register(webhook, fake.make_client(), ["create.deal"])

    post = writes(fake)[0]
    assert (post.method, post.path) == ("POST", "/api/v1/webhooks")
    assert post.body == {"subscription_url": f"{PUBLIC}/webhooks/pipedrive-events", "event_action": "create",
                         "event_object": "deal", "name": "alumio-lite pipedrive-events",
                         "http_auth_user": webhook.validators["basic"]["username"], "http_auth_password": SECRET,
                         "version": "2.0"}
    webhook.refresh_from_db()
    assert webhook.registration["subscriptions"][0]["id"] == "41"
    unregister(webhook)
    assert (writes(fake)[1].method, writes(fake)[1].path) == ("DELETE", "/api/v1/webhooks/41")


@pytest.mark.parametrize("fake", ["timely"], indirect=True)
def test_timely_gets_one_webhook_with_every_subscription_and_the_secret_token(db, fake, settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    webhook = make_webhook("timely")
    client = fake.make_client()

    with pytest.raises(RegistrationError, match="Timely account id"):
        register(webhook, client, ["projects:created"], {"account_id": ""})
    register(webhook, client, ["projects:created", "hours:updated"], {"account_id": "61234"})

    post = writes(fake)[0]
    assert (post.method, post.path) == ("POST", "/1.1/61234/webhooks")
    assert post.body == {"webhook": {"url": f"{PUBLIC}/webhooks/timely-events",
                                     "subscriptions": ["projects:created", "hours:updated"], "active": True,
                                     "secret_token": SECRET}}
    assert post.header("Authorization", "").startswith("Bearer ")
    unregister(webhook)
    assert (writes(fake)[1].method, writes(fake)[1].path) == ("DELETE", "/1.1/61234/webhooks/41")


@pytest.mark.parametrize("fake", ["copper"], indirect=True)
def test_copper_gets_the_secret_as_a_custom_header(db, fake, settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    webhook = make_webhook("copper")

    register(webhook, fake.make_client(), ["company.update"])

    post = writes(fake)[0]
    assert (post.method, post.path) == ("POST", "/developer_api/v1/webhooks")
    assert post.body == {"target": f"{PUBLIC}/webhooks/copper-events", "type": "company", "event": "update",
                         "headers": {presets.SECRET_HEADER: SECRET}}
    assert post.header("X-PW-Application") == "developer_api"
    unregister(webhook)
    assert (writes(fake)[1].method, writes(fake)[1].path) == ("DELETE", "/developer_api/v1/webhooks/41")


@pytest.mark.parametrize("fake", ["connectwise"], indirect=True)
def test_connectwise_gets_a_callback_whose_url_carries_the_token(db, fake, settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    webhook = make_webhook("connectwise")

    register(webhook, fake.make_client(), ["Ticket"])

    post = writes(fake)[0]
    assert (post.method, post.path) == ("POST", "/v4_6_release/apis/3.0/system/callbacks")
    assert post.body == {"url": f"{PUBLIC}/webhooks/connectwise-events?token={SECRET}", "objectId": 1,
                         "type": "Ticket", "level": "Owner", "description": "alumio-lite connectwise-events",
                         "inactiveFlag": False}
    assert post.header("clientId") and base64.b64decode(post.header("Authorization")[6:]).decode().count("+") == 1
    webhook.refresh_from_db()
    assert webhook.registration["url"] == f"{PUBLIC}/webhooks/connectwise-events"  # no token kept in the clear
    unregister(webhook)
    assert (writes(fake)[1].method, writes(fake)[1].path) == ("DELETE", "/v4_6_release/apis/3.0/system/callbacks/41")


@pytest.mark.parametrize("fake", ["picqer"], indirect=True)
def test_a_refusal_midway_removes_what_was_made_and_says_why(db, fake, settings):
    webhook = make_webhook("picqer")
    client = fake.make_client()
    fake.fail_next(422, body={"error": True, "error_message": "Event not known"})

    with pytest.raises(RegistrationError, match="Picqer refused the subscription"):
        register(webhook, client, ["orders.created"])
    assert Webhook.objects.get().registration == {}

    # the second of two is refused: the first is removed again
    received = len(fake.received)
    register_calls = {"n": 0}
    original = fake.answer

    def second_fails(request):
        if request.method == "POST":
            register_calls["n"] += 1
            if register_calls["n"] == 2:
                return Reply(422, {"error": True, "error_message": "Event not known"})
        return original(request)

    fake.answer = second_fails
    with pytest.raises(RegistrationError):
        register(webhook, client, ["orders.created", "orders.closed"])
    assert [(r.method, r.path) for r in writes(fake)[received - 1:]][-1][0] == "DELETE"
    assert Webhook.objects.get().registration == {}


@pytest.mark.parametrize("fake", ["picqer"], indirect=True)
def test_the_page_registers_and_removes(signed_in, fake, settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    webhook = make_webhook("picqer")
    client = fake.make_client()

    page = signed_in.post(f"/connections/webhooks/{webhook.pk}/register/",
                          {"client": client.pk, "events": ["orders.created"]}, follow=True).content.decode()

    assert "Registered at Picqer: subscription id 41" in page and "subscription id <code>41</code>" in page
    assert SECRET not in page
    page = signed_in.post(f"/connections/webhooks/{webhook.pk}/unregister/", follow=True).content.decode()
    assert "Removed the subscription at the platform." in page


def test_public_url_problems():
    assert "loopback" in public_url_problem("http://127.0.0.1:8000")
    assert "private" in public_url_problem("http://10.1.2.3")
    assert "local name" in public_url_problem("http://localhost:8000")
    assert "local name" in public_url_problem("http://alumio.internal")
    assert public_url_problem("https://alumio.example.com") == ""
    assert public_url_problem("https://8.8.8.8") == ""

"""Picqer's User-Agent names the application and a contact: the client's field, the setting, else the site."""
import json
from io import StringIO

import pytest
import responses
from django.core.management import call_command

from clients.forms import ClientSettingsForm
from clients.http import ClientError
from clients.platforms.registry import get_platform

from .helpers import BASES, make_client, session

pytestmark = pytest.mark.django_db


def sent_user_agent(client) -> str:
    responses.add(responses.GET, BASES["picqer"] + "/users/me", json={"iduser": 1})
    s, _ = session(client)
    s.call("GET /users/me")
    return responses.calls[-1].request.headers["User-Agent"]


@responses.activate
def test_setting_names_the_contact(settings):
    settings.PICQER_USER_AGENT_CONTACT = "ops@example.com"
    assert sent_user_agent(make_client("picqer")) == "alumio-lite/0.1 (ops@example.com)"


@responses.activate
def test_the_clients_own_contact_wins_over_the_setting(settings):
    settings.PICQER_USER_AGENT_CONTACT = "ops@example.com"
    client = make_client("picqer", settings={"user_agent_contact": "https://shop.example.nl"})
    assert sent_user_agent(client) == "alumio-lite/0.1 (https://shop.example.nl)"


@responses.activate
def test_without_either_the_dashboards_address_is_the_contact(settings):
    settings.PICQER_USER_AGENT_CONTACT = ""
    settings.PUBLIC_BASE_URL = "https://alumio.example.com"
    assert sent_user_agent(make_client("picqer")) == "alumio-lite/0.1 (https://alumio.example.com)"


@responses.activate
def test_a_bad_setting_cannot_inject_headers_or_break_requests(settings):
    settings.PICQER_USER_AGENT_CONTACT = "ops@example.com\r\nX-Evil: 1 (é)"
    assert sent_user_agent(make_client("picqer")) == "alumio-lite/0.1 (ops@example.com X-Evil: 1)"
    assert "X-Evil" not in responses.calls[-1].request.headers


def test_other_platforms_keep_their_headers():
    assert "User-Agent" not in get_platform("timely").headers_for({"user_agent_contact": "x@example.com"})
    assert get_platform("copper").headers_for({}) == {"Content-Type": "application/json"}


def test_the_form_refuses_a_contact_with_a_line_break():
    form = ClientSettingsForm(
        platform=get_platform("picqer"),
        data={"base_uri": "https://acme.picqer.com/api/v1", "api_key": "pq-key-1",
              "user_agent_contact": "ops@example.com\nX-Evil: 1"},
    )
    assert not form.is_valid()
    assert "line break" in str(form.errors["user_agent_contact"])
    assert "X-Evil" not in str(form.errors)


def test_fake_picqer_refuses_a_user_agent_without_contact_and_accepts_ours(fake_picqer, settings):
    """Over a real socket: the old contact-less User-Agent is refused, the configured one is accepted."""
    client = fake_picqer.make_client("picqer")
    settings.PICQER_USER_AGENT_CONTACT = "ops@example.com"
    out = StringIO()
    call_command("call", "picqer", "GET /users/me", stdout=out, stderr=StringIO())
    assert json.loads(out.getvalue())
    assert fake_picqer.received[-1].header("User-Agent") == "alumio-lite/0.1 (ops@example.com)"

    client.settings = {**client.settings, "user_agent_contact": ""}
    client.save()
    settings.PICQER_USER_AGENT_CONTACT = "no contact here"
    settings.PUBLIC_BASE_URL = "no-site"
    s, _ = session(client)
    with pytest.raises(ClientError, match="HTTP 400"):
        s.call("GET /users/me")

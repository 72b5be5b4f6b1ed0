"""The POST callback (Copper) gets the same checks as the GET one: the state belongs to the browser
session and user that clicked Grant access, and nobody else can spend it."""
from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from clients.models import HttpClient, OAuthState
from tests.oauth_server.fixtures import approve

from .conftest import continue_url, make_oauth_client

pytestmark = pytest.mark.django_db(transaction=True)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def copper_answer(signed_in, oauth_provider, dashboard_url):
    client = make_oauth_client(oauth_provider, platform="copper", identifier="copper-oauth")
    start = signed_in.post(reverse("clients:grant", args=[client.identifier]))
    method, params = approve(oauth_provider, start["Location"])
    assert method == "POST"
    return client, params


def test_a_post_from_another_browser_can_neither_grant_nor_burn_the_state(signed_in, consultant, copper_answer):
    client, params = copper_answer
    other = Client()
    other.force_login(consultant)  # the same user, in another browser
    bounce = other.post(reverse("clients:oauth_callback"), params)
    response = other.get(continue_url(bounce))

    assert any("another browser session" in m for m in _messages(response))
    client.refresh_from_db()
    assert client.tokens == {} and client.auth_state == HttpClient.AuthState.NEEDS_GRANT
    assert OAuthState.objects.get(state=params["state"]).used_at is None  # not spent

    # The browser that clicked Grant access still completes it.
    done = signed_in.get(continue_url(signed_in.post(reverse("clients:oauth_callback"), params)))
    assert "Access granted to Copper." in _messages(done)
    client.refresh_from_db()
    assert client.auth_state == HttpClient.AuthState.GRANTED


def test_a_cookie_less_post_alone_changes_nothing(copper_answer):
    client, params = copper_answer
    response = Client().post(reverse("clients:oauth_callback"), params)

    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert OAuthState.objects.get(state=params["state"]).used_at is None
    client.refresh_from_db()
    assert client.tokens == {}


def test_a_signed_out_browser_is_refused_without_spending_the_state(copper_answer):
    client, params = copper_answer
    response = Client().get(reverse("clients:oauth_callback"), params)

    assert response.status_code == 302
    assert OAuthState.objects.get(state=params["state"]).used_at is None
    client.refresh_from_db()
    assert client.tokens == {}


def test_the_continue_page_escapes_what_the_post_carried(copper_answer):
    _, params = copper_answer
    page = Client().post(reverse("clients:oauth_callback"),
                         {**params, "error_description": '"><script>alert(1)</script>'}).content.decode()
    assert "<script>alert(1)" not in page

"""The budget on the pages: the client form's "Requests per minute", the list and the client page."""
import pytest
from django.urls import reverse

from clients.models import HttpClient
from clients.rate_budget import pacing

pytestmark = [pytest.mark.django_db, pytest.mark.rate_budget]


def picqer(**kwargs):
    return HttpClient.objects.create(name="P", identifier="p", platform="picqer",
                                     settings={"base_uri": "https://a.picqer.com/api/v1"},
                                     secrets={"api_key": "stored-key-1234"}, **kwargs)


def edit(signed_in, value):
    return signed_in.post(reverse("clients:edit", args=["p"]), {
        "name": "P", "identifier": "p", "base_uri": "https://a.picqer.com/api/v1", "api_key": "",
        "rate_limit_per_minute": value})


@pytest.mark.parametrize(("typed", "stored"), [("120", 120), ("", None), ("0", 0)])
def test_the_edit_form_saves_requests_per_minute(signed_in, typed, stored):
    client = picqer(rate_limit_per_minute=7)
    assert edit(signed_in, typed).status_code == 302
    client.refresh_from_db()
    assert client.rate_limit_per_minute == stored


def test_the_edit_form_refuses_a_negative_rate_and_says_what_blank_means(signed_in):
    picqer()
    page = signed_in.get(reverse("clients:edit", args=["p"])).content.decode()
    assert "Requests per minute" in page and "500 requests a minute" in page and "0: no shared budget" in page
    response = edit(signed_in, "-5")
    assert response.status_code == 200 and "greater than or equal to 0" in response.content.decode()


def test_list_and_client_page_show_the_budget_and_its_use(signed_in, budget_store):
    client = picqer()
    HttpClient.objects.create(name="Off one", identifier="off", platform="copper", rate_limit_per_minute=0)
    policy = pacing.Policy(configured=None, limit=500, window=60.0, headroom=0.02)
    for _ in range(3):
        budget_store.change(client.pk, lambda s, now: pacing.take(s, now, policy, 1000))
    budget_store.change(client.pk, lambda s, now: (None, pacing.pause(s, now, 300, "paused after Picqer answered "
                                                                                  "HTTP 429 (asked to wait 300 s)")))
    listing = signed_in.get(reverse("clients:list")).content.decode()
    assert "Rate budget" in listing and "of 500 a minute" in listing and "Paused until" in listing
    assert "Off" in listing
    page = signed_in.get(reverse("clients:detail", args=["p"])).content.decode()
    assert 'id="rate-budget"' in page and "Picqer&#x27;s documented limit" in page
    assert "HTTP 429 (asked to wait 300 s)" in page
    used = page.split("This minute</dt><dd>")[1].split(" ")[0]
    before = page.split("Last minute</dt><dd>")[1].split(" ")[0]
    assert int(used) + int(before) == 3
    off = signed_in.get(reverse("clients:detail", args=["off"])).content.decode()
    assert "off for this HTTP Client (Requests per minute: 0)" in off


def test_the_dashboard_shows_the_budgets_of_clients_in_use(signed_in, budget_store):
    from django.utils import timezone

    client = picqer(last_used_at=timezone.now())
    HttpClient.objects.create(name="Idle one", identifier="idle", platform="copper")
    policy = pacing.Policy(configured=None, limit=500, window=60.0, headroom=0.02)
    for _ in range(2):
        budget_store.change(client.pk, lambda s, now: pacing.take(s, now, policy, 1000))
    page = signed_in.get(reverse("home")).content.decode()
    card = page.split('id="rate-budgets"')[1].split("</section>")[0]
    assert ">P</a>" in card and "of 500 a minute" in card and "Idle one" not in card


def test_the_create_wizard_keeps_requests_per_minute_through_its_steps(signed_in):
    signed_in.get(reverse("clients:create") + "?restart=1")
    signed_in.post(reverse("clients:create"), {"platform": "copper"})
    step2 = signed_in.get(reverse("clients:create_settings")).content.decode()
    assert "Copper&#x27;s documented limit: 180 requests a minute" in step2
    typed = {"base_uri": "https://api.copper.com/developer_api/v1", "auth_type": "api_keys",
             "pw_application": "developer_api", "pw_user_email": "me@acme.test", "pw_access_token": "k-1"}
    refused = signed_in.post(reverse("clients:create_settings"), {**typed, "rate_limit_per_minute": "-1"})
    assert refused.status_code == 200
    response = signed_in.post(reverse("clients:create_settings"), {**typed, "rate_limit_per_minute": "90"})
    assert response.status_code == 302
    signed_in.post(reverse("clients:create_name"), {"name": "Copper sales", "identifier": ""})
    assert HttpClient.objects.get(platform="copper").rate_limit_per_minute == 90

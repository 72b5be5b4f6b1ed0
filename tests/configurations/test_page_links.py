"""Links between related pages: a client and the configurations using it, a Run test and the tester."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from connections.models import RunTest

from .conftest import make_client, make_incoming, make_outgoing

pytestmark = pytest.mark.django_db


def test_client_page_lists_the_configurations_that_use_it(signed_in):
    picqer = make_client("picqer")
    incoming = make_incoming(picqer, "GET /customers", name="Shop customers")
    other = make_incoming(make_client("picqer", "picqer-other"), "GET /customers", name="Other shop")
    html = signed_in.get(reverse("clients:detail", args=[picqer.identifier])).content.decode()
    used_by = html[html.index('id="used-by"'):html.index("Recent requests")]
    assert f'href="{incoming.get_absolute_url()}"' in used_by
    assert "Shop customers" in used_by
    assert other.name not in used_by


def test_client_page_without_users_offers_new_configurations_for_it(signed_in):
    copper = make_client("copper")
    html = signed_in.get(reverse("clients:detail", args=[copper.identifier])).content.decode()
    assert "No configuration uses this HTTP Client yet" in html
    query = f"?platform=copper&amp;client={copper.pk}"
    assert reverse("connections:incoming_create") + query in html
    assert reverse("connections:outgoing_create") + query in html


@pytest.mark.parametrize("url_name", ["connections:incoming_create", "connections:outgoing_create"])
def test_new_configuration_preselects_platform_and_client_from_the_link(signed_in, url_name):
    make_client("copper", "copper-a", name="Copper A")
    chosen = make_client("copper", "copper-b", name="Copper B")
    html = signed_in.get(reverse(url_name), {"platform": "copper", "client": chosen.pk}).content.decode()
    assert '<option value="copper" selected>' in html
    assert f'<option value="{chosen.pk}" selected>Copper B</option>' in html


def test_outgoing_owner_listed_too(signed_in):
    copper = make_client("copper")
    outgoing = make_outgoing(copper, "POST /people", name="People to Copper")
    html = signed_in.get(reverse("clients:detail", args=[copper.identifier])).content.decode()
    assert f'href="{outgoing.get_absolute_url()}"' in html


def test_finished_run_test_links_to_the_tester_which_loads_its_entities(signed_in):
    incoming = make_incoming(make_client("picqer"), "GET /customers")
    entities = [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bo"}]
    RunTest.objects.create(incoming=incoming, status=RunTest.Status.FINISHED, sample=entities, entities=2, pages=1)
    incoming.last_test = entities
    incoming.save(update_fields=["last_test"])

    html = signed_in.get(incoming.get_absolute_url()).content.decode()
    link = reverse("connections:transformer_new") + f"?incoming={incoming.pk}"
    assert f'id="run-test-to-tester" href="{link}"' in html

    tester = signed_in.get(link)
    assert json.loads(tester.context["input_text"]) == entities
    assert tester.context["result"]["ran"] is True


def test_tester_link_to_an_incoming_without_run_test_starts_empty(signed_in):
    incoming = make_incoming(make_client("picqer"), "GET /customers")
    tester = signed_in.get(reverse("connections:transformer_new"), {"incoming": incoming.pk})
    assert tester.context["input_text"] == ""
    assert signed_in.get(reverse("connections:transformer_new"), {"incoming": "nope"}).status_code == 200

"""Incoming/Outgoing pages: lists with search and filters, dependent partials, duplicate, delete."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from connections.catalog import ENTITY_OPTION_LIMIT
from connections.models import Incoming, IncomingTransformer, Outgoing, OutgoingTransformer, Route

from .conftest import make_client, make_incoming, make_outgoing, make_transformer

pytestmark = pytest.mark.django_db


def options(html: str) -> list[str]:
    return re.findall(r'<option value="([^"]+)"', html)


def test_incoming_list_search_and_filters(signed_in):
    picqer, pipedrive = make_client("picqer"), make_client("pipedrive")
    make_incoming(picqer, "Get single customer", {"path": {"idcustomer": 1}}, name="Picqer customer")
    make_incoming(pipedrive, "Get one user", {"path": {"id": 1}}, name="Pipedrive user", disabled=True)
    url = reverse("connections:incoming_list")
    page = signed_in.get(url).content.decode()
    assert "Picqer Subscriber" in page and "Pipedrive Subscriber" in page and "Get one user" in page
    assert "Pipedrive user" not in signed_in.get(url, {"q": "picqer"}).content.decode()
    assert "Picqer customer" not in signed_in.get(url, {"platform": "pipedrive"}).content.decode()
    enabled = signed_in.get(url, {"state": "enabled"}).content.decode()
    assert "Picqer customer" in enabled and "Pipedrive user" not in enabled


def test_outgoing_list_search(signed_in):
    copper = make_client("copper")
    make_outgoing(copper, "Create a New Company", name="New companies")
    page = signed_in.get(reverse("connections:outgoing_list")).content.decode()
    assert "Copper Publisher" in page and "Create a New Company" in page
    assert "New companies" not in signed_in.get(reverse("connections:outgoing_list"), {"q": "zzz"}).content.decode()


def test_new_forms_name_their_role_in_the_shared_cards(signed_in):
    for kind, role in (("incoming", "Subscriber"), ("outgoing", "Publisher")):
        page = signed_in.get(reverse(f"connections:{kind}_create")).content.decode()
        assert f"<h2>{role}</h2>" in page and f'<label for="id_platform">{role}</label>' in page
        assert f"Choose a {role} to see its entities" in page
        assert f'hx-get="{reverse(f"connections:{kind}_fields")}"' in page


def test_connectwise_entity_options_are_limited_grouped_and_keep_the_current_value(signed_in):
    url = reverse("connections:incoming_entity_options")
    html = signed_in.get(url, {"platform": "connectwise", "entity_q": ""}).content.decode()
    assert len(options(html)) == ENTITY_OPTION_LIMIT
    assert "<optgroup" in html and "type in the search box to narrow" in html
    current = "GET /company/addressFormats/{id}"
    html = signed_in.get(
        url, {"platform": "connectwise", "entity_q": "ticket notes", "entity": current}
    ).content.decode()
    values = options(html)
    assert current in values  # the chosen entity stays, even when the search does not match it
    assert 1 < len(values) <= ENTITY_OPTION_LIMIT + 1
    assert f'value="{current}" selected' in html
    assert all(v.startswith("GET ") for v in values)  # the subscriber offers reads only


def test_method_first_platforms_narrow_entities_by_method(signed_in):
    url = reverse("connections:incoming_fields")
    html = signed_in.get(url, {"platform": "timely"}).content.decode()
    assert 'name="method"' in html and "Choose a Method" in html and 'name="entity"' not in html
    html = signed_in.get(url, {"platform": "timely", "method": "POST"}).content.decode()
    assert options(html) and all(v.startswith("POST ") for v in options(html) if v[0].isupper() and " /" in v)
    assert "All Reports" in html
    outgoing = signed_in.get(
        reverse("connections:outgoing_entity_options"), {"platform": "picqer", "method": "PUT", "entity_q": "customer"}
    ).content.decode()
    assert options(outgoing) and all(v.startswith("PUT ") for v in options(outgoing))


def test_fields_partial_offers_only_clients_of_the_platform(signed_in):
    make_client("picqer", name="Picqer shop")
    make_client("pipedrive", name="Pipedrive sales")
    html = signed_in.get(reverse("connections:incoming_fields"), {"platform": "picqer"}).content.decode()
    assert "Picqer shop" in html and "Pipedrive sales" not in html


def test_params_hint_lists_path_and_query_parameters_with_a_template(signed_in):
    html = signed_in.get(
        reverse("connections:incoming_params_hint"), {"platform": "picqer", "entity": "GET /customers/{idcustomer}"}
    ).content.decode()
    assert "idcustomer" in html and "Fill template" in html
    assert "{&quot;path&quot;: {&quot;idcustomer&quot;: &quot;&quot;}, &quot;query&quot;: {}}" in html
    cw = signed_in.get(
        reverse("connections:incoming_params_hint"),
        {"platform": "connectwise", "entity": "GET /company/addressFormats/{id}"},
    ).content.decode()
    assert "Known query parameters" in cw and "conditions" in cw


def test_duplicate_copies_settings_and_transformers(signed_in):
    picqer = make_client("picqer")
    incoming = make_incoming(picqer, "Get single customer", {"path": {"idcustomer": 5}}, identifier="cust")
    t = make_transformer("Step", [])
    IncomingTransformer.objects.create(incoming=incoming, transformer=t, stage="input", position=0)
    Incoming.objects.filter(pk=incoming.pk).update(last_test=[{"id": 1}])
    response = signed_in.post(reverse("connections:incoming_duplicate", args=[incoming.pk]))
    copy = Incoming.objects.exclude(pk=incoming.pk).get()
    assert response["Location"] == copy.get_absolute_url()
    assert (copy.identifier, copy.name) == ("cust-copy", f"{incoming.name} (copy)")
    assert copy.request_parameters == {"path": {"idcustomer": 5}}
    assert IncomingTransformer.objects.filter(incoming=copy, transformer=t).exists()
    assert copy.last_test is None  # the copy has not been tested
    outgoing = make_outgoing(make_client("copper"), "Create a New Company", identifier="co")
    second = make_transformer("Second", [])
    for position, transformer in enumerate([second, t]):
        OutgoingTransformer.objects.create(outgoing=outgoing, transformer=transformer, position=position)
    signed_in.post(reverse("connections:outgoing_duplicate", args=[outgoing.pk]))
    assert Outgoing.objects.filter(identifier="co-copy").exists()
    links = OutgoingTransformer.objects.filter(outgoing__identifier="co-copy").order_by("position")
    assert [link.transformer for link in links] == [second, t]  # same chain, same order
    assert OutgoingTransformer.objects.filter(outgoing=outgoing).count() == 2  # the original keeps its own
    signed_in.post(reverse("connections:outgoing_duplicate", args=[outgoing.pk]))
    assert Outgoing.objects.filter(identifier="co-copy-2").exists()  # a second copy never clashes


def test_delete_is_refused_while_a_route_uses_it(signed_in):
    incoming = make_incoming(make_client("picqer"), "Get all customers", name="All customers")
    outgoing = make_outgoing(make_client("copper"), "Create a New Company")
    Route.objects.create(name="Customers to Copper", identifier="c2c", incoming=incoming, outgoing=outgoing)
    response = signed_in.post(reverse("connections:incoming_delete", args=[incoming.pk]), follow=True)
    assert "cannot be deleted: it is used by the route(s) Customers to Copper" in response.content.decode()
    assert Incoming.objects.filter(pk=incoming.pk).exists()
    response = signed_in.post(reverse("connections:outgoing_delete", args=[outgoing.pk]), follow=True)
    assert "cannot be deleted" in response.content.decode()
    Route.objects.all().delete()
    signed_in.post(reverse("connections:incoming_delete", args=[incoming.pk]))
    assert not Incoming.objects.exists()


def test_edit_page_keeps_the_saved_values_and_transformer_order(signed_in):
    picqer = make_client("picqer")
    a, b = make_transformer("First", []), make_transformer("Second", [])
    data = {
        "name": "Ordered",
        "platform": "picqer",
        "entity": "GET /customers",
        "client": str(picqer.pk),
        "request_parameters": '{"query": {"search": "x"}}',
        "pagination": "on",
        "input_transformers": [str(b.pk), str(a.pk)],
    }
    response = signed_in.post(reverse("connections:incoming_create"), data)
    incoming = Incoming.objects.get()
    assert response["Location"] == incoming.get_absolute_url()
    rows = IncomingTransformer.objects.filter(incoming=incoming).order_by("position")
    assert [r.transformer.name for r in rows] == ["Second", "First"]
    page = signed_in.get(incoming.get_absolute_url()).content.decode()
    assert 'value="GET /customers" selected' in page and "Picqer main" in page
    rows_html = page[page.index('id="transformer-rows"') : page.index('id="transformer-row-template"')]
    assert rows_html.index(f'<option value="{b.pk}" selected') < rows_html.index(f'<option value="{a.pk}" selected')

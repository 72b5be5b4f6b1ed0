"""Every validation rule of Connections -> Incoming/Outgoing is a field error that keeps what was typed."""

from __future__ import annotations

import html
import json

import pytest
from django.urls import reverse

from clients.models import HttpClient
from connections.models import Incoming, Outgoing

from .conftest import incoming_post, make_client

pytestmark = pytest.mark.django_db

SINGLE_CUSTOMER = "GET /customers/{idcustomer}"


@pytest.fixture
def picqer():
    return make_client("picqer")


def post_incoming(signed_in, data):
    return signed_in.post(reverse("connections:incoming_create"), data)


def errors_of(response, field: str) -> list[str]:
    form = response.context["form"]
    return form.errors.get(field, [])


def test_a_valid_incoming_is_saved_with_the_entity_key_and_method(signed_in, picqer):
    response = post_incoming(
        signed_in, incoming_post(picqer, "Get single customer", {"path": {"idcustomer": 89338142}})
    )
    assert response.status_code == 302
    incoming = Incoming.objects.get()
    assert incoming.entity == SINGLE_CUSTOMER  # a name is accepted and stored as the stable key
    assert incoming.method == "GET"
    assert incoming.identifier == "customers-from-picqer"
    assert incoming.request_parameters == {"path": {"idcustomer": 89338142}}


def test_invalid_json_names_line_and_column_and_keeps_the_text(signed_in, picqer):
    typed = '{\n  "path": {"idcustomer": 1,}\n}'
    response = post_incoming(signed_in, incoming_post(picqer, SINGLE_CUSTOMER, typed))
    assert response.status_code == 200
    [message] = errors_of(response, "request_parameters")
    assert message.startswith("Invalid JSON at line 2, column 28: Expecting property name")
    assert html.escape(typed) in response.content.decode()
    assert not Incoming.objects.exists()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([1, 2], "Must be a JSON object ({...}), not a list."),
        ({"path": [1]}, "“path” must be a JSON object ({...}), not a list."),
        ({"path": {"idcustomer": 1}, "query": "search=x"}, "“query” must be a JSON object ({...}), not a string."),
        (
            {"path": {"idcustomer": 1}, "body": {}},
            "Unknown key “body”: Request Parameters take only “path” and “query”.",
        ),
        ({"path": {}}, "Missing path parameter “idcustomer” (required by Get single customer)."),
        (
            {"path": {"idcustomer": ""}, "query": {}},
            "Missing path parameter “idcustomer” (required by Get single customer).",
        ),
        (
            {"path": {"idcustomer": 1, "idorder": 2}},
            "Unknown path parameter “idorder”; Get single customer takes: idcustomer.",
        ),
    ],
)
def test_request_parameter_errors(signed_in, picqer, params, expected):
    typed = json.dumps(params)
    response = post_incoming(signed_in, incoming_post(picqer, SINGLE_CUSTOMER, typed))
    assert expected in errors_of(response, "request_parameters")
    assert html.escape(typed) in response.content.decode()
    assert not Incoming.objects.exists()


def test_entity_of_another_platform(signed_in, picqer):
    response = post_incoming(signed_in, incoming_post(picqer, "GET /company/addressFormats/{id}", {"path": {"id": 4}}))
    assert errors_of(response, "entity") == ["“GET /company/addressFormats/{id}” is not an entity of Picqer."]


def test_entity_the_subscriber_does_not_offer(signed_in, picqer):
    response = post_incoming(signed_in, incoming_post(picqer, "POST /customers"))
    assert errors_of(response, "entity") == ["“Create new customer” is not offered by the Picqer Subscriber."]


def test_entity_that_does_not_match_the_method(signed_in):
    timely = make_client("timely", auth_state="granted", tokens={"access_token": "tok-123456"})
    data = incoming_post(timely, "All Reports", {"path": {"account_id": 61234}}, method="GET")
    response = post_incoming(signed_in, data)
    assert errors_of(response, "entity") == ["“All Reports” is a POST entity; the Method is GET."]


def test_method_is_required_where_the_platform_puts_it_first(signed_in):
    timely = make_client("timely", auth_state="granted", tokens={"access_token": "tok-123456"})
    response = post_incoming(signed_in, incoming_post(timely, "All Reports", {"path": {"account_id": 61234}}))
    assert errors_of(response, "method") == ["Choose a Method."]


def test_client_of_another_platform(signed_in, picqer):
    pipedrive = make_client("pipedrive", name="Sales pipeline")
    data = incoming_post(picqer, SINGLE_CUSTOMER, {"path": {"idcustomer": 1}}, client=str(pipedrive.pk))
    response = post_incoming(signed_in, data)
    assert errors_of(response, "client") == [
        "“Sales pipeline” is a Pipedrive HTTP Client; choose a Picqer HTTP Client."
    ]


def test_client_that_needs_a_grant(signed_in):
    timely = make_client("timely", name="Timely hours", auth_state=HttpClient.AuthState.NEEDS_GRANT)
    data = incoming_post(timely, "All Reports", {"path": {"account_id": 61234}}, method="POST")
    response = post_incoming(signed_in, data)
    assert errors_of(response, "client") == [
        "“Timely hours” needs a grant: open it and click Grant access to Timely first."
    ]


def test_missing_subscriber_entity_and_client(signed_in):
    response = post_incoming(signed_in, {"name": "x", "request_parameters": ""})
    assert errors_of(response, "platform") == ["Choose a Subscriber."]
    response = post_incoming(signed_in, {"name": "x", "platform": "picqer", "entity": "", "client": ""})
    assert errors_of(response, "entity") == ["Choose an entity."]
    assert errors_of(response, "client") == ["Choose a Picqer HTTP Client."]


def test_identifier_is_derived_unique_and_a_typed_duplicate_is_refused(signed_in, picqer):
    params = {"path": {"idcustomer": 1}}
    assert post_incoming(signed_in, incoming_post(picqer, SINGLE_CUSTOMER, params)).status_code == 302
    assert post_incoming(signed_in, incoming_post(picqer, SINGLE_CUSTOMER, params)).status_code == 302
    assert sorted(Incoming.objects.values_list("identifier", flat=True)) == [
        "customers-from-picqer",
        "customers-from-picqer-2",
    ]
    response = post_incoming(
        signed_in, incoming_post(picqer, SINGLE_CUSTOMER, params, identifier="customers-from-picqer")
    )
    assert errors_of(response, "identifier")
    assert Incoming.objects.count() == 2


# --- Outgoing ------------------------------------------------------------------------------


def outgoing_post(client, method, entity, **extra):
    data = {
        "name": "Companies to Copper",
        "platform": client.platform,
        "method": method,
        "entity": entity,
        "client": str(client.pk),
        "query": "",
        "payload": "",
    }
    data.update(extra)
    return data


def post_outgoing(signed_in, data):
    return signed_in.post(reverse("connections:outgoing_create"), data)


def test_a_valid_outgoing_is_saved(signed_in):
    copper = make_client("copper")
    response = post_outgoing(
        signed_in, outgoing_post(copper, "POST", "Create a New Company", payload='{"name": "Acme"}')
    )
    assert response.status_code == 302
    outgoing = Outgoing.objects.get()
    assert (outgoing.method, outgoing.entity, outgoing.payload) == ("POST", "POST /companies", {"name": "Acme"})


def test_outgoing_method_the_publisher_does_not_offer(signed_in, picqer):
    response = post_outgoing(signed_in, outgoing_post(picqer, "GET", "GET /customers"))
    assert errors_of(response, "method") == ["The Picqer Publisher has no GET entities; choose one of the list."]


def test_outgoing_entity_of_another_method_or_a_read(signed_in, picqer):
    response = post_outgoing(signed_in, outgoing_post(picqer, "PUT", "POST /customers"))
    assert errors_of(response, "entity")[0].endswith("is a POST entity; the Method is PUT.")
    response = post_outgoing(signed_in, outgoing_post(picqer, "POST", "GET /customers"))
    assert errors_of(response, "entity") == ["“Get all customers” is not offered by the Picqer Publisher."]


def test_outgoing_query_and_payload_must_be_json_objects(signed_in, picqer):
    response = post_outgoing(
        signed_in, outgoing_post(picqer, "POST", "POST /customers", query="{'a': 1}", payload="[1, 2]")
    )
    assert errors_of(response, "query")[0].startswith("Invalid JSON at line 1, column 2")
    assert errors_of(response, "payload") == ["Must be a JSON object ({...}), not a list."]
    body = response.content.decode()
    assert html.escape("{'a': 1}") in body and "[1, 2]" in body
    assert not Outgoing.objects.exists()

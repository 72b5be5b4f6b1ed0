"""The Transformers list says where each transformer is used, with links, in a fixed number of queries."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import HttpClient
from connections.models import (
    Incoming,
    IncomingTransformer,
    Outgoing,
    OutgoingTransformer,
    Route,
    RouteTransformer,
    Transformer,
)

pytestmark = pytest.mark.django_db


def make(name: str) -> Transformer:
    return Transformer.objects.create(name=name, identifier=name.lower().replace(" ", "-"))


def test_used_by_links_to_incoming_route_and_outgoing(signed_in):
    shared = make("Shared shape")
    make("Lonely step")
    client = HttpClient.objects.create(name="Shop", identifier="shop", platform="picqer")
    incoming = Incoming.objects.create(name="Orders in", identifier="orders-in", platform="picqer",
                                       entity="GET /orders", client=client)
    outgoing = Outgoing.objects.create(name="Deals out", identifier="deals-out", platform="picqer",
                                       entity="POST /orders", method="POST", client=client)
    route = Route.objects.create(name="Orders to deals", identifier="orders-to-deals", incoming=incoming,
                                 outgoing=outgoing)
    IncomingTransformer.objects.create(incoming=incoming, transformer=shared, stage="input")
    RouteTransformer.objects.create(route=route, transformer=shared)
    OutgoingTransformer.objects.create(outgoing=outgoing, transformer=shared)

    html = signed_in.get(reverse("connections:transformer_list")).content.decode()
    shared_row = html[html.index("Shared shape"):]
    shared_row = shared_row[:shared_row.index("</tr>")]
    for obj in (incoming, route, outgoing):
        assert f'<a href="{obj.get_absolute_url()}">{obj.name}</a>' in shared_row
    lonely_row = html[html.index("Lonely step"):]
    assert "Not used" in lonely_row[:lonely_row.index("</tr>")]


def test_list_queries_do_not_grow_with_links(signed_in):
    client = HttpClient.objects.create(name="Shop", identifier="shop", platform="picqer")

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert signed_in.get(reverse("connections:transformer_list")).status_code == 200
        return len(captured)

    make("First")
    before = count_queries()
    for i in range(5):
        t = make(f"Extra {i}")
        incoming = Incoming.objects.create(name=f"In {i}", identifier=f"in-{i}", platform="picqer",
                                           entity="GET /orders", client=client)
        IncomingTransformer.objects.create(incoming=incoming, transformer=t, stage="input")
    assert count_queries() == before

import pytest

from clients.models import HttpClient
from connections.models import Incoming, Outgoing, Route


@pytest.fixture
def route(db) -> Route:
    return make_route()


def make_route() -> Route:
    """A route between two configurations on one client "shop" (no platform is called)."""
    client = HttpClient.objects.create(name="Shop", identifier="shop", platform="picqer")
    incoming = Incoming.objects.create(name="Customers", identifier="customers-in", platform="picqer",
                                       entity="GET /customers", client=client)
    outgoing = Outgoing.objects.create(name="Persons", identifier="persons-out", platform="pipedrive",
                                       method="POST", entity="POST /v1/persons", client=client)
    return Route.objects.create(name="Customers to persons", identifier="c2p", incoming=incoming, outgoing=outgoing)

"""A route from a fake Picqer (source, 100 customers a page) to a fake Pipedrive (destination)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from connections.models import Incoming, Outgoing, Route, RouteTransformer, Transformer
from tests.fakes.platforms import FakePicqer, FakePipedrive

# Customers become Pipedrive persons: the payload is built from the customer's fields.
TO_PERSON = [
    {"kind": "copy", "settings": {"source": "name", "target": "payload.name"}},
    {"kind": "copy", "settings": {"source": "email", "target": "payload.email"}},
]


@dataclass
class Pipeline:
    source: FakePicqer
    destination: FakePipedrive
    incoming: Incoming
    outgoing: Outgoing
    route: Route

    def published_names(self) -> list[str]:
        return [r.body["name"] for r in self.destination.published]


def build_pipeline(source: FakePicqer, destination: FakePipedrive, *, name: str = "customers-to-persons",
                   realtime: bool = True, backoff: int = 1, max_attempts: int = 5, retry: bool = True,
                   log_requests: bool = True) -> Pipeline:
    source_client = source.make_client(f"{name}-picqer", log_requests=log_requests)
    dest_client = destination.make_client(f"{name}-pipedrive", log_requests=log_requests)
    incoming = Incoming.objects.create(
        name="Picqer customers", identifier=f"{name}-in", platform="picqer", method="GET",
        entity="GET /customers", client=source_client, pagination=True,
    )
    outgoing = Outgoing.objects.create(
        name="Pipedrive persons", identifier=f"{name}-out", platform="pipedrive", method="POST",
        entity="POST /v1/persons", client=dest_client,
    )
    route = Route.objects.create(
        name="Customers to persons", identifier=name, incoming=incoming, outgoing=outgoing,
        realtime=realtime, retry_on_failure=retry, max_attempts=max_attempts, backoff_seconds=backoff,
    )
    mapping = Transformer.objects.create(name="Customer to person", identifier=f"{name}-map", steps=TO_PERSON)
    RouteTransformer.objects.create(route=route, transformer=mapping, position=0)
    return Pipeline(source, destination, incoming, outgoing, route)


@pytest.fixture
def source():
    with FakePicqer(records=300) as fake:
        yield fake


@pytest.fixture
def destination():
    with FakePipedrive() as fake:
        yield fake


@pytest.fixture
def pipeline(db, source, destination) -> Pipeline:
    return build_pipeline(source, destination)

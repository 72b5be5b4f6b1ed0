"""Picqer customers kept in sync with Pipedrive organizations: create or update, ID mapping, incremental fetch."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from connections.models import Incoming, Outgoing, Route, RouteTransformer, Transformer
from storages.models import Storage
from sync.models import CreateOrUpdate, Watermark
from tests.fakes.sync import PicqerCustomers, PipedriveOrganizations

TO_ORGANIZATION = [{"kind": "value_setter", "settings": {"key": "payload.name", "value": "&{name}"}}]


@dataclass
class Sync:
    source: PicqerCustomers
    destination: PipedriveOrganizations
    incoming: Incoming
    outgoing: Outgoing
    route: Route
    storage: Storage
    plan: CreateOrUpdate
    watermark: Watermark


def build_sync(source, destination, *, incremental: bool = True, lookup: bool = False, realtime: bool = True) -> Sync:
    incoming = Incoming.objects.create(
        name="Picqer customers", identifier="picqer-customers", platform="picqer", method="GET",
        entity="GET /customers", client=source.make_client("picqer"), pagination=True,
        request_parameters={"query": {"updated_after": "&{watermark:%Y-%m-%d %H:%M:%S}"}},
    )
    watermark = Watermark.objects.create(incoming=incoming, enabled=incremental, time_zone="UTC")
    outgoing = Outgoing.objects.create(
        name="Pipedrive organizations", identifier="pipedrive-organizations", platform="pipedrive", method="POST",
        entity="POST /v1/organizations", client=destination.make_client("pipedrive"),
    )
    storage = Storage.objects.create(name="Customers in Pipedrive", identifier="customers-in-pipedrive")
    plan = CreateOrUpdate.objects.create(
        outgoing=outgoing, enabled=True, update_entity="PUT /v1/organizations/{id}", id_parameter="id",
        storage=storage, source_key="&{idcustomer}", response_id_path="data.id",
        lookup_entity="GET /v1/organizations/search" if lookup else "",
        lookup_query={"term": "&{payload.name}", "exact_match": "true"} if lookup else {},
        lookup_id_path="data.items[0].item.id" if lookup else "",
    )
    route = Route.objects.create(name="Customers to organizations", identifier="customers-to-organizations",
                                 incoming=incoming, outgoing=outgoing, realtime=realtime, backoff_seconds=1)
    mapping = Transformer.objects.create(name="Customer to organization", identifier="customer-to-organization",
                                         steps=TO_ORGANIZATION)
    RouteTransformer.objects.create(route=route, transformer=mapping, position=0)
    return Sync(source, destination, incoming, outgoing, route, storage, plan, watermark)


@pytest.fixture
def source():
    with PicqerCustomers(10) as fake:
        yield fake


@pytest.fixture
def destination():
    with PipedriveOrganizations() as fake:
        yield fake

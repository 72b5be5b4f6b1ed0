""" "Run test" against real local fake platform servers: URLs as called, counts, pages, errors, cancel."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connections import run_test
from connections.models import Incoming, IncomingTransformer, RunTest
from tests.fakes import FakeConnectWise, FakePicqer, FakePipedrive, FakeTimely

from .conftest import make_client, make_incoming, make_transformer

pytestmark = pytest.mark.django_db


def run_inline(incoming: Incoming) -> RunTest:
    test = RunTest.objects.create(incoming=incoming)
    run_test.execute(test.pk)
    test.refresh_from_db()
    return test


def test_picqer_single_customer_seed_shows_the_url_and_keeps_the_entity():
    with FakePicqer(records=100_000_000) as fake:
        client = fake.make_client()
        incoming = make_incoming(client, "Get single customer", {"path": {"idcustomer": 89338142}})
        test = run_inline(incoming)
    assert test.status == "finished", test.error
    [event] = test.events
    assert event["method"] == "GET"
    assert event["url"].endswith("/api/v1/customers/89338142")
    assert event["status"] == 200
    assert test.sample == [fake.record(89338142)]
    assert (test.pages, test.entities) == (1, 1)
    incoming.refresh_from_db()
    assert incoming.last_test == [fake.record(89338142)]
    assert fake.api_key not in json.dumps(test.events)


@pytest.mark.parametrize(
    ("fake_class", "entity", "params", "method", "path"),
    [
        (FakeTimely, "All Reports", {"path": {"account_id": 61234}}, "POST", "/1.1/61234/reports"),
        (
            FakeConnectWise,
            "AddressFormats - Get AddressFormat",
            {"path": {"id": 4}},
            "GET",
            "/v4_6_release/apis/3.0/company/addressFormats/4",
        ),
        (FakePipedrive, "Get one user", {"path": {"id": 22013967}}, "GET", "/api/v1/users/22013967"),
    ],
)
def test_seed_examples_call_exactly_this_path(fake_class, entity, params, method, path):
    with fake_class(records=30_000_000) as fake:
        incoming = make_incoming(fake.make_client(), entity, params)
        test = run_inline(incoming)
        received = [(r.method, r.path) for r in fake.received]
    assert received[0] == (method, path)
    assert test.events[0]["url"].split("?")[0].endswith(path)
    assert test.status == "finished", test.error


def test_pagination_on_fetches_every_page_and_counts_right():
    with FakePicqer(records=250) as fake:
        incoming = make_incoming(fake.make_client(), "Get all customers", pagination=True)
        test = run_inline(incoming)
        offsets = [int(r.query.get("offset", 0)) for r in fake.received]
    assert test.status == "finished", test.error
    assert test.entities == 250
    assert offsets[:3] == [0, 100, 200]
    assert test.pages == len(offsets) == len(test.events)
    assert all(e["status"] == 200 for e in test.events)
    assert [e["step"] for e in test.events][:3] == ["page 1", "page 2", "page 3"]
    assert len(test.sample) == run_test.SAMPLE_SIZE


def test_pagination_off_reads_only_the_first_page():
    with FakePicqer(records=250) as fake:
        incoming = make_incoming(fake.make_client(), "Get all customers", pagination=False)
        test = run_inline(incoming)
        requests = len(fake.received)
    assert (test.status, test.pages, test.entities, requests) == ("finished", 1, 100, 1)


def test_an_error_says_where_it_happened_and_hides_the_key():
    with FakePicqer(records=250) as fake:
        incoming = make_incoming(fake.make_client(), "Get all customers", pagination=True)
        fake.fail_next(200)  # first page fine (a planned 200 with a body that is no list)…
        test = run_inline(incoming)
    assert test.status == "failed"
    assert test.error_step == "page 1"
    assert test.error
    assert fake.api_key not in test.error


def test_a_404_is_failed_with_status_and_step():
    with FakePicqer(records=10) as fake:
        incoming = make_incoming(fake.make_client(), "Get single customer", {"path": {"idcustomer": 999}})
        test = run_inline(incoming)
    assert test.status == "failed"
    assert "404" in test.error
    assert test.error_step == "page 1"
    assert test.events[0]["status"] == 404


def test_input_transformers_shape_the_request_parameters():
    with FakePicqer(records=100) as fake:
        incoming = make_incoming(fake.make_client(), "Get single customer", {"path": {"idcustomer": 1}})
        setter = make_transformer(
            "Customer 42", [{"kind": "value_setter", "settings": {"key": "path.idcustomer", "value": 42}}]
        )
        IncomingTransformer.objects.create(incoming=incoming, transformer=setter, stage="input", position=0)
        test = run_inline(incoming)
        paths = [r.path for r in fake.received]
    assert paths == ["/api/v1/customers/42"]
    assert test.sample == [fake.record(42)]


def test_the_run_test_view_and_its_polled_partial(signed_in, inline_run_test):
    with FakePicqer(records=100_000_000) as fake:
        incoming = make_incoming(fake.make_client(), "Get single customer", {"path": {"idcustomer": 89338142}})
        response = signed_in.post(reverse("connections:incoming_run_test", args=[incoming.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "/api/v1/customers/89338142" in body
    assert "Finished" in body
    assert 'hx-trigger="every 500ms"' not in body  # done: polling stops
    test = RunTest.objects.get()
    status = signed_in.get(
        reverse("connections:incoming_run_test_status", args=[incoming.pk, test.pk]), HTTP_HX_REQUEST="true"
    )
    assert "Record 89338142" in status.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_long_run_shows_progress_while_polled_and_can_be_cancelled(client, consultant):
    client.force_login(consultant)
    with FakePicqer(records=5_000, delay=0.15) as fake:
        incoming = make_incoming(fake.make_client(), "Get all customers", pagination=True)
        response = client.post(reverse("connections:incoming_run_test", args=[incoming.pk]), HTTP_HX_REQUEST="true")
        assert 'hx-trigger="every 500ms"' in response.content.decode()  # running: the partial polls
        test = RunTest.objects.get()
        status_url = reverse("connections:incoming_run_test_status", args=[incoming.pk, test.pk])
        deadline = time.monotonic() + 20
        while RunTest.objects.get(pk=test.pk).pages < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        polled = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
        assert "Cancel" in polled and "/api/v1/customers" in polled
        client.post(
            reverse("connections:incoming_run_test_cancel", args=[incoming.pk, test.pk]), HTTP_HX_REQUEST="true"
        )
        while not RunTest.objects.get(pk=test.pk).done and time.monotonic() < deadline:
            time.sleep(0.05)
    test.refresh_from_db()
    assert test.status == "cancelled"
    assert 2 <= test.pages < 50  # stopped long before the 50 pages of 5,000 records
    assert test.entities == test.pages * 100


def test_a_test_whose_thread_was_lost_is_reported_not_polled_forever(signed_in):
    incoming = make_incoming(make_client("picqer"), "Get all customers")
    test = RunTest.objects.create(incoming=incoming)
    RunTest.objects.filter(pk=test.pk).update(updated_at=timezone.now() - timedelta(seconds=run_test.STALE_AFTER + 1))
    body = signed_in.get(
        reverse("connections:incoming_run_test_status", args=[incoming.pk, test.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "stopped without finishing" in body
    assert 'hx-trigger="every 500ms"' not in body


def test_run_test_tests_the_form_as_typed_not_the_saved_configuration(signed_in, inline_run_test):
    from .conftest import incoming_post

    with FakePicqer(records=3) as fake:
        client = fake.make_client()
        incoming = make_incoming(client, "GET /customers", {"query": {"search": "saved"}}, name="Customers")
        typed = incoming_post(client, "GET /customers", {"query": {"search": "typed"}},
                              name="Customers", identifier=incoming.identifier)
        response = signed_in.post(reverse("connections:incoming_run_test", args=[incoming.pk]), typed,
                                  HTTP_HX_REQUEST="true")

        assert response.status_code == 200
        test = RunTest.objects.get(incoming=incoming)
        assert test.status == "finished", test.error
        assert [r.query.get("search") for r in fake.received] == ["typed"]
    incoming.refresh_from_db()
    assert incoming.request_parameters == {"query": {"search": "saved"}}  # nothing was saved


def test_run_test_with_an_invalid_form_says_so_and_calls_nothing(signed_in, inline_run_test):
    from .conftest import incoming_post

    with FakePicqer(records=3) as fake:
        client = fake.make_client()
        incoming = make_incoming(client, "GET /customers", {}, name="Customers")
        broken = incoming_post(client, "GET /customers", '{"query": ', name="Customers",
                               identifier=incoming.identifier)
        response = signed_in.post(reverse("connections:incoming_run_test", args=[incoming.pk]), broken,
                                  HTTP_HX_REQUEST="true")

        assert "Not tested: the form above has errors" in response.content.decode()
        assert fake.received == [] and not RunTest.objects.exists()

"""Entity samples (Run test's first entities, Incoming.last_test, the tester's Load input):
secrets redacted like the request logs, long values cut, values JSON can't hold shown with a clear error."""
from __future__ import annotations

import json

import pytest
from django.urls import reverse

from connections import run_test
from connections.models import Incoming, Outgoing, Route, RunTest, Task
from tests.fakes import FakePicqer
from tests.fakes.server import Reply

from .conftest import make_client, make_incoming

pytestmark = pytest.mark.django_db


def run_inline(incoming: Incoming) -> RunTest:
    test = RunTest.objects.create(incoming=incoming)
    run_test.execute(test.pk)
    test.refresh_from_db()
    return test


def test_run_test_entities_do_not_show_secrets_a_platform_echoes():
    def record(i: int) -> dict:
        # A platform echoing the key back, as a plain field and under a credential name.
        return {"idcustomer": i, "note": f"key {fake.api_key} used", "api_token": "tok-" + "9" * 20}

    with FakePicqer(records=3, record=record) as fake:
        incoming = make_incoming(fake.make_client(), "Get all customers")
        test = run_inline(incoming)
    assert test.status == "finished", test.error
    incoming.refresh_from_db()
    for stored in (test.sample, incoming.last_test):
        text = json.dumps(stored)
        assert fake.api_key not in text and "9" * 20 not in text
        assert stored[0]["note"] == "key [redacted] used" and stored[0]["api_token"] == "[redacted]"


def test_a_huge_text_in_a_record_is_cut_in_the_sample_and_the_page_stays_small(signed_in):
    with FakePicqer(records=2, record=lambda i: {"idcustomer": i, "bio": "x" * 3_000_000}) as fake:
        incoming = make_incoming(fake.make_client(), "Get all customers")
        test = run_inline(incoming)
    assert test.status == "finished", test.error
    assert len(test.sample[0]["bio"]) < 3_000 and test.sample[0]["bio"].endswith("… (cut)")
    page = signed_in.get(reverse("connections:incoming_edit", args=[incoming.pk]) + f"?test={test.pk}")
    assert page.status_code == 200 and len(page.content) < 200_000


def test_a_record_with_nan_fails_the_run_test_with_a_clear_error_not_an_integrity_error():
    body = '[{"idcustomer": 1, "name": "Fine"}, {"idcustomer": 2, "price": NaN}]'
    with FakePicqer(records=2) as fake:
        fake.list_page = lambda request: Reply(200, body)
        incoming = make_incoming(fake.make_client(), "Get all customers")
        test = run_inline(incoming)
    assert test.status == "failed"
    assert test.error_step == "page 1"
    assert "entity 2 holds NaN at “price”" in test.error and "Integrity" not in test.error
    assert test.sample[1] == {"idcustomer": 2, "price": "NaN"}  # still shown, as text


def test_tester_load_input_redacts_task_data_and_old_run_tests(signed_in):
    source = make_client("picqer", secrets={"api_key": "picqer-key-0123456789"})
    destination = make_client("pipedrive", secrets={"api_token": "pipedrive-token-0123456789"})
    # A Run test saved before samples were redacted.
    incoming = make_incoming(source, "Get all customers", last_test=[{"echo": "picqer-key-0123456789"}])
    outgoing = Outgoing.objects.create(name="Persons", identifier="persons", platform="pipedrive",
                                       entity="POST /v1/persons", method="POST", client=destination)
    route = Route.objects.create(name="R", identifier="r", incoming=incoming, outgoing=outgoing)
    task = Task.objects.create(route=route, dedupe_key="1", data={
        "a": "picqer-key-0123456789", "b": "pipedrive-token-0123456789", "password": "hunter2-hunter2"})
    url = reverse("connections:transformer_load_input")
    pages = [
        signed_in.post(url, {"steps-TOTAL": "0", "source": f"task:{task.pk}"}).content.decode(),
        signed_in.post(url, {"steps-TOTAL": "0", "source": f"incoming:{incoming.pk}"}).content.decode(),
        signed_in.get(reverse("connections:transformer_new") + f"?task={task.pk}").content.decode(),
        signed_in.get(reverse("connections:transformer_new") + f"?incoming={incoming.pk}").content.decode(),
    ]
    for page in pages:
        assert "0123456789" not in page and "hunter2" not in page
        assert "[redacted]" in page


def test_a_run_test_saved_before_redaction_shows_no_secret(signed_in):
    client = make_client("picqer", secrets={"api_key": "picqer-key-0123456789"})
    incoming = make_incoming(client, "Get all customers")
    test = RunTest.objects.create(incoming=incoming, status="finished",
                                  sample=[{"echo": "picqer-key-0123456789", "password": "hunter2-hunter2"}])
    page = signed_in.get(reverse("connections:incoming_edit", args=[incoming.pk]) + f"?test={test.pk}")
    text = page.content.decode()
    assert page.status_code == 200 and "0123456789" not in text and "hunter2" not in text and "[redacted]" in text

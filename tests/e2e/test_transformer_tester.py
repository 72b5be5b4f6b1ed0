"""In a browser: load a task's data into the tester, add two steps, watch the output, save an example."""
import json
import re
import time

import pytest
from playwright.sync_api import expect

from clients.models import HttpClient
from connections.models import Incoming, Outgoing, Route, Task, Transformer, TransformerExample

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def order_task():
    client = HttpClient.objects.create(name="Picqer shop", identifier="picqer-shop", platform="picqer")
    incoming = Incoming.objects.create(name="Picqer orders", identifier="picqer-orders", platform="picqer",
                                       entity="orders", client=client)
    outgoing = Outgoing.objects.create(name="Pipedrive deals", identifier="pipedrive-deals", platform="pipedrive",
                                       entity="deals", method="POST", client=client)
    route = Route.objects.create(name="Orders to deals", identifier="orders-to-deals", incoming=incoming,
                                 outgoing=outgoing)
    return Task.objects.create(route=route, dedupe_key="order-1001", data={
        "idorder": 1001, "deliveryname": "Ann Smith", "status": "processing", "internal_note": "call first"})


def output_json(page) -> dict:
    return json.loads(page.locator("#output-json").inner_text())


def test_tester_loads_a_task_runs_two_new_steps_and_saves_an_example(page, order_task):
    page.goto("/connections/transformers/new/")
    page.fill("#id_name", "Order to deal")

    # Load the task's data: the input fills in and the output shows it unchanged (no steps yet).
    page.select_option("#id_source", f"task:{order_task.pk}")
    page.click("#load-input")
    page.wait_for_selector("#load-note")
    assert json.loads(page.input_value("#tester-input-text")) == order_task.data
    page.wait_for_selector("#output-json")
    assert output_json(page) == order_task.data

    # Step 1: a value setter that builds the publisher payload from the entity.
    page.select_option("#id_new_kind", "value_setter")
    page.click("#add-step")
    page.wait_for_selector("#step-1")
    page.fill("#id_steps-0-key", "payload.title")
    page.fill("#id_steps-0-value", "Order &{idorder} for &{deliveryname}")
    page.locator("#id_steps-0-value").press("End")  # a keyup: the output re-renders after a pause
    # Functions, not expressions: Playwright evaluates an expression with eval, which the CSP refuses.
    page.wait_for_function("() => document.querySelector('#output-json') && "
                           "document.querySelector('#output-json').textContent.includes('payload')")
    assert output_json(page)["payload"] == {"title": "Order 1001 for Ann Smith"}

    # Step 2: remove the internal note.
    page.select_option("#id_new_kind", "remove")
    page.click("#add-step")
    page.wait_for_selector("#step-2")
    page.fill("#id_steps-1-keys", "internal_note")
    page.locator("#id_steps-1-keys").press("End")
    page.wait_for_function("() => (document.querySelector('#output-json')?.textContent || 'internal_note')"
                           ".indexOf('internal_note') < 0")
    expected = {"idorder": 1001, "deliveryname": "Ann Smith", "status": "processing",
                "payload": {"title": "Order 1001 for Ann Smith"}}
    assert output_json(page) == expected

    # A bad key shows where the chain stopped, then fixing it brings the output back.
    page.fill("#id_steps-0-value", "&{customer.id}")
    page.locator("#id_steps-0-value").press("End")
    page.wait_for_selector("#output-error")
    assert "Stopped at step 1 (Value setter)" in page.inner_text("#output-error")
    # The card of the failing step is marked, the other is not.
    expect(page.locator("#step-1")).to_have_class(re.compile(r"\bstep-error\b"))
    expect(page.locator("#step-1 .step-error-badge")).to_be_visible()
    expect(page.locator("#step-2")).not_to_have_class(re.compile(r"\bstep-error\b"))
    page.fill("#id_steps-0-value", "Order &{idorder} for &{deliveryname}")
    page.locator("#id_steps-0-value").press("End")
    page.wait_for_selector("#output-json")
    expect(page.locator("#step-1")).not_to_have_class(re.compile(r"\bstep-error\b"))

    page.click("#save-example")
    page.wait_for_url(re.compile(r"/connections/transformers/\d+/$"))
    assert "and the current input and output as an example" in page.inner_text(".messages")
    assert page.locator("tr.example .badge.ok").inner_text() == "Matches"

    transformer = Transformer.objects.get(name="Order to deal")
    assert [s["kind"] for s in transformer.steps] == ["value_setter", "remove"]
    example = TransformerExample.objects.get(transformer=transformer)
    assert example.input == order_task.data and example.output == [expected]


def test_invalid_json_input_says_line_and_column(page):
    page.goto("/connections/transformers/new/")
    page.fill("#tester-input-text", '{"id": 1,\n "name": }')
    page.locator("#tester-input-text").press("End")
    page.wait_for_selector("#output-input-error")
    assert "line 2, column 10" in page.inner_text("#output-input-error")


def test_a_slow_load_is_not_cut_short_by_choosing_the_source(page, order_task):
    """Choosing "Load input from…" must not start a tester run: runs replace each other (hx-sync), and one that
    started 200 ms after the choice used to abort a Load still waiting on a slow server."""
    def slow(route):
        time.sleep(1.5)  # the server is slow to answer the Load; the browser's own timers keep running meanwhile
        route.continue_()

    page.route("**/transformers/load-input/", slow)
    page.goto("/connections/transformers/new/")
    page.select_option("#id_source", f"task:{order_task.pk}")
    page.click("#load-input")
    page.wait_for_selector("#load-note")
    assert json.loads(page.input_value("#tester-input-text")) == order_task.data

"""Connections -> Incoming in the browser: add, reorder and remove input transformers; the order is saved."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from clients.models import HttpClient
from connections.models import Incoming, IncomingTransformer, Transformer
from tests.fakes import FakePicqer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def chain(incoming: Incoming) -> list[str]:
    rows = IncomingTransformer.objects.filter(incoming=incoming, stage="input").order_by("position")
    return [row.transformer.name for row in rows.select_related("transformer")]


def chosen(page: Page) -> list[str]:
    """The transformer names in the rows, top to bottom, as the page shows them."""
    rows = page.locator("#transformer-rows .transformer-row select")
    return [rows.nth(i).locator("option:checked").inner_text() for i in range(rows.count())]


@pytest.fixture
def transformers() -> dict[str, Transformer]:
    steps = [{"kind": "value_setter", "settings": {"key": "query.search", "value": "x"}}]
    return {
        name: Transformer.objects.create(name=name, identifier=name.lower().replace(" ", "-"), steps=steps)
        for name in ("Set search", "Only this year", "Page size 50")
    }


def test_add_reorder_and_remove_input_transformers(page: Page, transformers):
    shop = HttpClient.objects.create(
        name="Shop", identifier="shop", platform="picqer", settings={"base_uri": "https://shop.picqer.com/api/v1"}
    )
    page.goto("/connections/incoming/new/")
    page.fill("#id_name", "Customers with transformers")
    page.select_option("#id_platform", "picqer")
    page.wait_for_selector("#entity-search")
    page.fill("#entity-search", "all customers")
    page.wait_for_selector('#id_entity option[value="GET /customers"]', state="attached")
    page.select_option("#id_entity", "GET /customers")
    page.select_option("#id_client", str(shop.pk))

    # No rows yet: the hint says so. Add three, each choosing a different transformer.
    expect(page.locator("[data-no-transformers]")).to_be_visible()
    add = page.get_by_role("button", name="Add transformer")
    for i, name in enumerate(("Set search", "Only this year", "Page size 50")):
        add.click()
        page.locator("#transformer-rows .transformer-row select").nth(i).select_option(label=name)
    expect(page.locator("[data-no-transformers]")).to_be_hidden()
    assert chosen(page) == ["Set search", "Only this year", "Page size 50"]
    # The first row cannot move up, the last cannot move down.
    expect(page.get_by_role("button", name="Move transformer 1 up")).to_be_disabled()
    expect(page.get_by_role("button", name="Move transformer 3 down")).to_be_disabled()

    # Move the third up, then remove the first: "Page size 50", "Only this year".
    page.get_by_role("button", name="Move transformer 3 up").click()
    assert chosen(page) == ["Set search", "Page size 50", "Only this year"]
    page.get_by_role("button", name="Remove transformer 1").click()
    assert chosen(page) == ["Page size 50", "Only this year"]
    expect(page.get_by_role("button", name="Move transformer 1 up")).to_be_disabled()

    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/connections/incoming/\d+/$"))
    incoming = Incoming.objects.get(name="Customers with transformers")
    assert chain(incoming) == ["Page size 50", "Only this year"]

    # The edit page shows the saved order; moving the second up and saving stores the new order.
    assert chosen(page) == ["Page size 50", "Only this year"]
    page.get_by_role("button", name="Move transformer 2 up").click()
    assert chosen(page) == ["Only this year", "Page size 50"]
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Saved")
    assert chain(incoming) == ["Only this year", "Page size 50"]

    # Removing every row and saving leaves no transformers attached.
    for _ in range(2):
        page.get_by_role("button", name="Remove transformer 1").click()
    expect(page.locator("[data-no-transformers]")).to_be_visible()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Saved")
    assert chain(incoming) == []


# README screenshots are refreshed only on request (SAVE_SCREENSHOTS=1), so a test run never
# dirties the working tree.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_run_test_sends_what_the_input_transformers_made(page: Page, tmp_path: Path):
    with FakePicqer(records=250) as fake:
        shop = fake.make_client(name="Shop (Picqer)")
        incoming = Incoming.objects.create(
            name="Active customers", identifier="active-customers", platform="picqer", entity="GET /customers",
            client=shop, pagination=True, request_parameters={"path": {}, "query": {}},
        )
        search = Transformer.objects.create(
            name="Search active customers", identifier="search-active",
            steps=[{"kind": "value_setter", "settings": {"key": "query.search", "value": "active"}}],
        )
        IncomingTransformer.objects.create(incoming=incoming, transformer=search, stage="input", position=0)

        page.goto(incoming.get_absolute_url())
        assert chosen(page) == ["Search active customers"]
        run = page.locator("#run-test")
        run.get_by_role("button", name="Run test").click()
        expect(page.locator("#run-test-status")).to_have_text("Finished", timeout=60_000)
        expect(page.locator("#run-test-entities")).to_have_text("250")
        requests = page.locator("#run-test-requests")
        for offset in ("offset=0", "offset=100", "offset=200"):
            expect(requests).to_contain_text(f"search=active&{offset}")
        assert fake.received and all(r.query.get("search") == "active" for r in fake.received), fake.received
        expect(page.locator("#run-test-to-tester")).to_be_visible()

        shots = SCREENSHOTS if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path
        # The Request card (its input transformer) above the finished Run test.
        page.evaluate("document.querySelector('#configuration-form .card:last-of-type').scrollIntoView()")
        page.screenshot(path=str(shots / "incoming-run-test.png"))

        # "Try a transformer on these entities" opens the tester with the Run test's entities as input.
        page.locator("#run-test-to-tester").click()
        page.wait_for_url(re.compile(r"/connections/transformers/new/\?incoming=\d+$"))
        loaded = json.loads(page.input_value("#tester-input-text"))
        assert [e["id"] for e in loaded[:3]] == [1, 2, 3]

"""Connections -> Outgoing in the browser: publisher -> method -> entity, then the request preview."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from connections.models import Outgoing
from tests.fakes import FakeCopper, FakePicqer, FakeTimely

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def entity_values(page: Page) -> list[str]:
    return [v for v in page.locator("#id_entity option").evaluate_all("els => els.map(e => e.value)") if v]


def create_outgoing(
    page: Page,
    *,
    name: str,
    platform: str,
    method: str,
    search: str,
    key: str,
    client_pk: int,
    payload: dict | None = None,
) -> Outgoing:
    page.goto("/connections/outgoing/new/")
    page.fill("#id_name", name)
    page.select_option("#id_platform", platform)
    page.wait_for_selector("#id_method")
    expect(page.locator("#id_entity")).to_have_count(0)  # the Method comes first
    page.select_option("#id_method", method)
    page.wait_for_selector("#entity-search")
    page.fill("#entity-search", search)
    page.wait_for_selector(f'#id_entity option[value="{key}"]', state="attached")
    assert entity_values(page) and all(v.startswith(f"{method} ") for v in entity_values(page))
    page.select_option("#id_entity", key)
    expect(page.locator("#params-hint")).to_contain_text(key.split(" ", 1)[1])
    if payload is not None:
        page.fill("#id_payload", json.dumps(payload))
    page.select_option("#id_client", str(client_pk))
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/connections/outgoing/\d+/$"))
    return Outgoing.objects.get(name=name)


def preview(page: Page, sample: dict) -> None:
    page.fill("#preview-sample", json.dumps(sample))
    page.get_by_role("button", name="Preview request").click()


def test_copper_create_a_new_company_preview(page: Page):
    with FakeCopper() as fake:
        client = fake.make_client(name="Copper fake")
        outgoing = create_outgoing(
            page,
            name="Companies to Copper",
            platform="copper",
            method="POST",
            search="create a new company",
            key="POST /companies",
            client_pk=client.pk,
            payload={"name": "Default", "details": "from alumio-lite"},
        )
        assert (outgoing.method, outgoing.entity) == ("POST", "POST /companies")
        preview(page, {"payload": {"name": "Acme"}})
        expect(page.locator("#preview-method")).to_have_text("POST")
        expect(page.locator("#preview-url")).to_have_text(f"{fake.base_uri}/companies")
        body = json.loads(page.locator("#preview-body").inner_text())
        assert body == {"name": "Acme", "details": "from alumio-lite"}
        headers = page.locator("#preview-headers")
        expect(headers).to_contain_text("X-PW-AccessToken")
        expect(headers).to_contain_text("[redacted]")
        assert fake.api_key not in page.content()


def test_timely_method_narrows_entities_and_preview_uses_the_entity_path(page: Page):
    with FakeTimely() as fake:
        client = fake.make_client(name="Timely fake")
        create_outgoing(
            page,
            name="Clients to Timely",
            platform="timely",
            method="POST",
            search="create a client",
            key="POST /1.1/{account_id}/clients",
            client_pk=client.pk,
        )
        # Switching the Method re-renders the entity list with that method's entities only.
        page.select_option("#id_method", "PUT")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#id_entity option')].some(o => o.value.startsWith('PUT '))"
        )
        assert all(v.startswith("PUT ") for v in entity_values(page))
        page.goto(Outgoing.objects.get().get_absolute_url())
        page.locator("#params-hint").get_by_role("button", name="Fill preview template").click()
        assert json.loads(page.input_value("#preview-sample")) == {
            "path": {"account_id": ""},
            "query": {},
            "payload": {},
        }
        preview(page, {"path": {"account_id": 123123}, "payload": {"client": {"name": "Acme"}}})
        expect(page.locator("#preview-url")).to_have_text(f"{fake.base_uri}/1.1/123123/clients")
        preview(page, {"payload": {}})
        expect(page.locator("#preview-error")).to_contain_text("account_id")


def test_picqer_docs_steps_method_then_entity(page: Page):
    with FakePicqer() as fake:
        client = fake.make_client(name="Picqer fake")
        outgoing = create_outgoing(
            page,
            name="Customers to Picqer",
            platform="picqer",
            method="PUT",
            search="customer",
            key="PUT /customers/{idcustomer}",
            client_pk=client.pk,
            payload={"name": "Acme"},
        )
        preview(page, {"path": {"idcustomer": 7}})
        expect(page.locator("#preview-url")).to_have_text(f"{fake.base_uri}/customers/7")
        expect(page.locator("#preview-method")).to_have_text("PUT")
    assert outgoing.payload == {"name": "Acme"}


def test_a_method_chosen_the_instant_it_appears_is_not_lost(page: Page):
    """htmx must wire up swapped-in fields in the same tick they appear (no settle delay):
    a MutationObserver picks the Method as soon as the field is inserted, before any timer
    could run, and the entities of that Method must still follow."""
    page.goto("/connections/outgoing/new/")
    page.evaluate(
        """() => new MutationObserver((_, observer) => {
            const method = document.getElementById("id_method");
            if (!method) return;
            observer.disconnect();
            method.value = "DELETE";
            method.dispatchEvent(new Event("change", {bubbles: true}));
        }).observe(document.body, {childList: true, subtree: true})"""
    )
    page.select_option("#id_platform", "picqer")
    page.wait_for_selector("#entity-search")
    expect(page.locator("#id_method")).to_have_value("DELETE")
    assert entity_values(page) and all(v.startswith("DELETE ") for v in entity_values(page))

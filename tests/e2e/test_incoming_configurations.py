"""Connections -> Incoming in the browser: the docs' steps for each platform, then Run test on a fake."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from connections.models import Incoming
from tests.fakes import FakeConnectWise, FakePicqer, FakePipedrive, FakeTimely

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def choose_entity(page: Page, search: str, key: str) -> None:
    """Type in the entity search box, wait for the htmx options, pick one."""
    page.fill("#entity-search", search)
    page.wait_for_selector(f'#id_entity option[value="{key}"]', state="attached")
    page.select_option("#id_entity", key)


def create_incoming(
    page: Page,
    *,
    name: str,
    platform: str,
    search: str,
    key: str,
    params: dict,
    client_pk: int,
    method: str | None = None,
    path_params: tuple[str, ...] = (),
) -> Incoming:
    page.goto("/connections/incoming/new/")
    page.fill("#id_name", name)
    page.select_option("#id_platform", platform)
    if method:
        # Timely: the Method comes first; the entity list appears only after it.
        page.wait_for_selector("#id_method")
        expect(page.locator("#id_entity")).to_have_count(0)
        page.select_option("#id_method", method)
    page.wait_for_selector("#entity-search")
    choose_entity(page, search, key)
    hint = page.locator("#params-hint")
    for name_ in path_params:
        expect(hint.locator("code.path-param", has_text=name_)).to_be_visible()
    hint.get_by_role("button", name="Fill template").click()
    template = json.loads(page.input_value("#id_request_parameters"))
    assert template == {"path": {p: "" for p in path_params}, "query": {}}
    page.fill("#id_request_parameters", json.dumps(params))
    page.select_option("#id_client", str(client_pk))
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/connections/incoming/\d+/$"))
    return Incoming.objects.get(name=name)


SEEDS = [
    (
        FakePicqer,
        "picqer",
        None,
        "single customer",
        "GET /customers/{idcustomer}",
        ("idcustomer",),
        {"path": {"idcustomer": "89338142"}},
        "/api/v1/customers/89338142",
    ),
    (
        FakeTimely,
        "timely",
        "POST",
        "all reports",
        "POST /1.1/{account_id}/reports",
        ("account_id",),
        {"path": {"account_id": 61234}},
        "/1.1/61234/reports",
    ),
    (
        FakeConnectWise,
        "connectwise",
        None,
        "addressformats get addressformat",
        "GET /company/addressFormats/{id}",
        ("id",),
        {"path": {"id": 4}},
        "/company/addressFormats/4",
    ),
    (
        FakePipedrive,
        "pipedrive",
        None,
        "get one user",
        "GET /v1/users/{id}",
        ("id",),
        {"path": {"id": 22013967}},
        "/v1/users/22013967",
    ),
]


@pytest.mark.parametrize(
    ("fake_class", "platform", "method", "search", "key", "path_params", "params", "expected_path"),
    SEEDS,
    ids=[s[1] for s in SEEDS],
)
def test_docs_steps_and_run_test_show_the_seed_url(
    page: Page, fake_class, platform, method, search, key, path_params, params, expected_path
):
    with fake_class(records=100_000_000) as fake:
        client = fake.make_client(name=f"{platform} on the fake")
        incoming = create_incoming(
            page,
            name=f"Seed {platform}",
            platform=platform,
            search=search,
            key=key,
            params=params,
            client_pk=client.pk,
            method=method,
            path_params=path_params,
        )
        assert incoming.entity == key
        assert incoming.request_parameters == params
        expect(page.locator("#run-test")).not_to_be_in_viewport()  # below the long form
        page.get_by_role("link", name="Run test").click()  # the header jumps down to it
        expect(page.locator("#run-test")).to_be_in_viewport()
        page.locator("#run-test").get_by_role("button", name="Run test").click()
        expect(page.locator("#run-test-status")).not_to_have_text("Running", timeout=60_000)
        assert page.locator("#run-test-status").inner_text() == "Finished", page.locator("#run-test").inner_text()
        expect(page.locator("#run-test-requests")).to_contain_text(expected_path)
        expect(page.locator("#run-test-requests")).to_contain_text("200")
        expect(page.locator("#run-test-sample")).to_contain_text('"id"')
        assert fake.received[0].path.endswith(expected_path)
    incoming.refresh_from_db()
    assert incoming.last_test


def test_run_test_with_pagination_fetches_every_page_live(page: Page):
    with FakePicqer(records=350) as fake:
        client = fake.make_client(name="Picqer fake")
        page.goto("/connections/incoming/new/")
        page.fill("#id_name", "All customers ×2")
        expect(page.locator("#id_identifier")).to_have_value("all-customers-2")
        page.fill("#id_name", "All customers")
        page.select_option("#id_platform", "picqer")
        page.wait_for_selector("#entity-search")
        choose_entity(page, "all customers", "GET /customers")
        page.select_option("#id_client", str(client.pk))
        page.check("#id_pagination")
        page.get_by_role("button", name="Create").click()
        page.wait_for_url(re.compile(r"/connections/incoming/\d+/$"))
        page.locator("#run-test").get_by_role("button", name="Run test").click()
        expect(page.locator("#run-test-status")).to_have_text("Finished", timeout=60_000)
        expect(page.locator("#run-test-entities")).to_have_text("350")
        expect(page.locator("#run-test-pages")).to_have_text(str(len(fake.received)))
        for offset in ("offset=100", "offset=200", "offset=300"):
            expect(page.locator("#run-test-requests")).to_contain_text(offset)
        # The API key never reaches the page.
        assert fake.api_key not in page.content()


def test_field_errors_keep_what_was_typed(page: Page):
    from clients.models import HttpClient

    other = HttpClient.objects.create(
        name="Sales", identifier="sales", platform="pipedrive", settings={"base_uri": "https://x.pipedrive.com/api"}
    )
    picqer = HttpClient.objects.create(
        name="Shop", identifier="shop", platform="picqer", settings={"base_uri": "https://shop.picqer.com/api/v1"}
    )
    page.goto("/connections/incoming/new/")
    page.fill("#id_name", "Broken one")
    page.fill("#id_description", "typed description stays")
    page.select_option("#id_platform", "picqer")
    page.wait_for_selector("#entity-search")
    choose_entity(page, "single customer", "GET /customers/{idcustomer}")
    typed = '{\n  "path": {"idcustomer": 12,}\n}'
    page.fill("#id_request_parameters", typed)
    page.select_option("#id_client", str(picqer.pk))
    page.get_by_role("button", name="Create").click()
    expect(page.locator(".field.has-error .errorlist")).to_contain_text("Invalid JSON at line 2, column 29")
    assert page.input_value("#id_request_parameters") == typed
    assert page.input_value("#id_name") == "Broken one"
    assert page.input_value("#id_description") == "typed description stays"
    assert page.input_value("#id_entity") == "GET /customers/{idcustomer}"
    page.fill("#id_request_parameters", '{"path": {"idorder": 1}}')
    page.get_by_role("button", name="Create").click()
    errors = page.locator(".field.has-error .errorlist")
    expect(errors).to_contain_text("Missing path parameter “idcustomer”")
    expect(errors).to_contain_text("Unknown path parameter “idorder”")
    assert not Incoming.objects.exists()
    assert other.pk  # the Pipedrive client exists but is not offered for Picqer
    expect(page.locator("#id_client option", has_text="Sales")).to_have_count(0)

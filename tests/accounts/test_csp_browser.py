"""In chromium: no page breaks the Content-Security-Policy, and the behaviours moved to static/js still work."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from connections.models import Route, Task

from .conftest import CRAWL_PK
from .test_role_crawl import crawl_urls

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pages_break_no_policy_and_scripts_still_work(page: Page, world, live_server):
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text or msg.type == "error" and "Refused" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    seen = 0
    for url, name, public in crawl_urls():
        if public or name in ("logout",) or name.startswith("admin:") or "<" in url:
            continue
        response = page.request.get(url)
        if response.status != 200 or not response.headers.get("content-type", "").startswith("text/html"):
            continue
        if "<html" not in response.text()[:500]:
            continue  # an htmx fragment, not a page
        page.goto(url)
        page.wait_for_load_state("load")
        seen += 1
    assert seen > 15
    assert problems == []

    # data-confirm asks first; dismissing keeps the route.
    page.goto(f"/connections/routes/{CRAWL_PK}/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("form[data-confirm] button").first.click()
    expect(page.locator("h1")).to_contain_text("Crawl")
    assert Route.objects.filter(pk=CRAWL_PK).exists()

    # data-select-all ticks every task of the table.
    Task.objects.create(route_id=CRAWL_PK, dedupe_key="second", data={}, status=Task.Status.FAILED)
    page.goto("/tasks/")
    page.locator("input[data-select-all]").check()
    boxes = page.locator("input[name=task]")
    expect(boxes.first).to_be_checked()
    assert boxes.count() >= 2 and all(boxes.nth(i).is_checked() for i in range(boxes.count()))

    # The identifier follows the name in the configuration form (static/js/configuration-form.js).
    page.goto("/connections/incoming/new/")
    page.fill("#id_name", "Prices in cents")
    expect(page.locator("#id_identifier")).to_have_value("prices-in-cents")
    assert problems == []

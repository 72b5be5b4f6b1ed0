"""Layouts at the window sizes users have: a 1024 px wide laptop, a 900 px high screen."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from connections.models import Task
from tests.engine.conftest import build_pipeline
from tests.fakes.platforms import FakePicqer, FakePipedrive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_routes_table_fits_a_1024_px_window(page: Page):
    with FakePicqer(records=1) as source, FakePipedrive() as destination:
        pipeline = build_pipeline(source, destination, name="a-route-with-a-rather-long-identifier")
    # a count in every status, with realistic widths
    Task.objects.bulk_create(
        Task(route=pipeline.route, dedupe_key=f"k{i}", data={}, status=status)
        for i, status in enumerate([s for s in Task.Status.values for _ in range(12)])
    )
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/connections/routes/")
    expect(page.locator("#routes")).to_be_visible()
    overflow = page.evaluate("() => { const w = document.querySelector('#routes').closest('.table-wrap');"
                             " return w.scrollWidth - w.clientWidth; }")
    assert overflow <= 0, f"the Routes table scrolls sideways by {overflow} px at 1024 px"
    expect(page.get_by_role("button", name="Run now")).to_be_in_viewport()


def test_transformer_tester_leaves_most_of_a_900_px_window_to_the_steps(page: Page):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto("/connections/transformers/new/")
    dock = page.locator("#tester")
    expect(dock).to_be_visible()
    height = dock.bounding_box()["height"]
    assert height <= 0.35 * 900, f"the docked tester is {height:.0f} px of a 900 px window"


def test_schedulers_table_keeps_dates_and_cron_on_one_line(page: Page):
    from django.core.management import call_command

    call_command("setup_schedules")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/schedulers/")
    for cell in page.locator("#schedulers tbody td:nth-child(3), #schedulers tbody td:nth-child(4)").all():
        box = cell.bounding_box()
        line = page.evaluate("(el) => parseFloat(getComputedStyle(el).lineHeight) || 20", cell.element_handle())
        text_height = page.evaluate("(el) => { const r = document.createRange(); r.selectNodeContents(el);"
                                    " return r.getBoundingClientRect().height; }", cell.element_handle())
        assert text_height < 2 * line, f"{cell.inner_text()!r} wraps ({text_height:.0f} px, {box})"

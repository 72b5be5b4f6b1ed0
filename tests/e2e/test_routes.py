"""Connections -> Routes in the browser, with a real `celery worker` process running the engine:
create a route, "Run now", watch the run's progress update, open a task and its request log."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from connections.models import Route, Run, Task, Transformer
from tests.engine.conftest import build_pipeline
from tests.fakes.platforms import FakePicqer, FakePipedrive
from tests.support.worker import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_create_a_route_run_it_and_follow_a_task_to_its_request_log(page, start_worker):
    with FakePicqer(records=300, delay=0.4) as source, FakePipedrive() as destination:
        # configurations and a transformer exist; the route itself is made in the browser
        pieces = build_pipeline(source, destination, name="browser")
        Route.objects.filter(pk=pieces.route.pk).delete()
        mapping = Transformer.objects.get(identifier="browser-map")
        start_worker()

        page.goto("/connections/routes/")
        page.get_by_role("link", name="New route").click()
        page.fill("#id_name", "Customers to Pipedrive")
        page.select_option("#id_incoming", str(pieces.incoming.pk))
        page.select_option("#id_outgoing", str(pieces.outgoing.pk))
        page.get_by_role("button", name="Add transformer").click()
        page.locator("#transformer-rows select").last.select_option(str(mapping.pk))
        page.get_by_label("Realtime processing").check()
        page.get_by_role("button", name="Save").click()

        page.wait_for_url(re.compile(r"/connections/routes/\d+/$"))
        route = Route.objects.get(name="Customers to Pipedrive")
        assert route.realtime and [t.pk for t in route.transformers.all()] == [mapping.pk]
        expect(page.get_by_text("1. Customer to person")).to_be_visible()

        page.get_by_role("button", name="Run now").click()
        page.wait_for_url(re.compile(r"/runs/\d+/$"))
        # the source answers slowly: the page shows the run going, then updates itself to the end
        expect(page.locator("#run-status")).to_have_text(re.compile("Queued|Running"))
        url_before = page.url
        # A mark on this document proves the page below updated itself rather than being reloaded
        # (a reload would drop it). Only the outcome is asserted: a slow poll may skip any
        # intermediate page count, so none is checked.
        page.evaluate("window.__notReloaded = true")
        expect(page.locator("#run-status")).to_have_text("Finished", timeout=120_000)
        expect(page.locator("#run-pages")).to_have_text("4")  # three full pages of 100, then the empty one
        assert page.evaluate("window.__notReloaded === true")
        expect(page.locator("#run-tasks")).to_have_text("300")
        expect(page.locator("#run-entities")).to_have_text("300")
        assert page.url == url_before
        run = Run.objects.get()
        assert run.worker.startswith("test-")

        wait_for(lambda: Task.objects.filter(status=Task.Status.FINISHED).count() == 300, timeout=120,
                 message="all tasks published")
        page.locator("#run-tasks-link").click()
        page.wait_for_url(re.compile(r"/tasks/\?run=\d+"))
        expect(page.locator("#tasks tbody tr")).to_have_count(50)  # one page of the 300
        expect(page.locator("#tasks tbody .badge.finished")).to_have_count(50)
        task = Task.objects.get(data__id=42)
        page.goto(f"/tasks/{task.pk}/")
        expect(page.locator("#task-status")).to_have_text("Finished", timeout=60_000)
        expect(page.locator("#task-data")).to_contain_text("user42@example.com")
        page.locator("#task-logs a").first.click()
        page.wait_for_url(re.compile(r"/clients/.*\d+/$"))
        expect(page.locator("h1")).to_contain_text("POST")
        expect(page.locator("body")).to_contain_text("/v1/persons")
        assert destination.api_token not in page.content()

"""The Schedulers page in the browser: the form asks only for the target that "What to run" needs."""
from __future__ import annotations

import json

import pytest
from django_celery_beat.models import PeriodicTask
from playwright.sync_api import expect

from tests.engine.conftest import build_pipeline
from tests.fakes.platforms import FakePicqer, FakePipedrive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_route_scheduler_asks_for_a_route_only(page):
    with FakePicqer() as source, FakePipedrive() as destination:
        pieces = build_pipeline(source, destination, name="sched")
    page.goto("/schedulers/")
    incoming, route = page.locator("#id_incoming"), page.locator("#id_route")
    expect(incoming).to_be_visible()  # "Run incoming" is the first choice
    expect(route).to_be_hidden()

    page.select_option("#id_kind", "process_route")
    expect(route).to_be_visible()
    expect(incoming).to_be_hidden()
    page.fill("#id_name", "Push persons every 15 minutes")
    route.select_option(str(pieces.route.pk))
    page.fill("#id_cron", "*/15 * * * *")
    page.get_by_role("button", name="Save scheduler").click()

    expect(page.locator("body")).to_contain_text("Push persons every 15 minutes")
    task = PeriodicTask.objects.get(name="Push persons every 15 minutes")
    assert task.task == "connections.process_route" and json.loads(task.args) == [pieces.route.pk]
    assert str(task.crontab.minute) == "*/15"

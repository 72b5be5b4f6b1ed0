"""Keeping Picqer customers and Pipedrive organizations in sync, set up and followed through the pages,
with a real `celery worker`: create or update with an ID mapping, incremental fetch, the storage."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from connections.models import Task
from sync.models import CreateOrUpdate, Watermark
from tests.fakes.sync import PicqerCustomers, PipedriveOrganizations
from tests.support.worker import wait_for
from tests.sync.conftest import build_sync

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def run_now(page, incoming) -> None:
    page.goto(incoming.get_absolute_url())
    page.get_by_role("button", name="Run now").click()
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    expect(page.locator("#run-status")).to_have_text("Finished", timeout=120_000)


def test_set_up_sync_in_the_pages_then_create_update_and_nothing(page, start_worker):
    with PicqerCustomers(10) as source, PipedriveOrganizations() as destination:
        sync = build_sync(source, destination)
        CreateOrUpdate.objects.all().delete()
        Watermark.objects.all().delete()
        sync.incoming.request_parameters = {}
        sync.incoming.save()
        start_worker()

        # Outgoing -> Create or update: the update entity and the id path are filled in for Pipedrive.
        page.goto(sync.outgoing.get_absolute_url())
        expect(page.locator("#create-or-update")).to_contain_text("Every task creates a new record")
        page.get_by_role("link", name="Set up create or update").click()
        expect(page.locator("#id_update_entity")).to_have_value("PUT /v1/organizations/{id}")
        expect(page.locator("#id_response_id_path")).to_have_value("data.id")
        page.get_by_label("Create or update").check()
        page.get_by_label("Source id").fill("&{idcustomer}")
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".messages")).to_contain_text("Create or update is on")
        expect(page.locator("#create-or-update")).to_contain_text("later ones update it")

        # Incoming -> Incremental fetch: Picqer's "changed since" filter added with one tick.
        page.goto(sync.incoming.get_absolute_url())
        page.get_by_role("link", name="Set up incremental fetch").click()
        page.get_by_label("Incremental fetch").check()
        page.get_by_label("Time zone of the platform's dates").fill("UTC")
        page.get_by_label(re.compile("Add the platform")).check()
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#incremental-fetch")).to_contain_text("No watermark yet")

        run_now(page, sync.incoming)
        wait_for(lambda: Task.objects.filter(status="finished").count() == 10, timeout=120, message="10 creates")
        assert destination.creates == 10

        source.change([2, 5, 7])
        source.add(2)
        run_now(page, sync.incoming)
        wait_for(lambda: Task.objects.filter(status="finished").count() == 15, timeout=120,
                 message="3 updates and 2 creates")
        assert (destination.creates, destination.updates, len(destination.organizations)) == (12, 3, 12)
        assert "updated_after" in [r for r in source.received if r.method == "GET"][-1].query

        received = len(destination.received)
        run_now(page, sync.incoming)
        expect(page.locator("#run-tasks")).to_have_text("0")
        assert len(destination.received) == received  # unchanged: nothing sent

        page.goto(sync.incoming.get_absolute_url())
        expect(page.locator("#incremental-fetch")).to_contain_text("Runs ask for records changed since")

        # Connections -> Storages: the ID mapping, one entry per customer.
        page.get_by_role("link", name="Storages", exact=True).click()
        page.get_by_role("link", name="Pipedrive organizations ID mapping").click()
        expect(page.locator("#entries tbody tr")).to_have_count(12)
        page.get_by_label("Key starts with").fill("12")
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#entries tbody tr")).to_have_count(1)
        page.locator("#entries a").first.click()
        organization = next(oid for oid, org in destination.organizations.items() if org["name"] == "Customer 12")
        expect(page.locator("#entry-value")).to_contain_text(f'"id": {organization}')

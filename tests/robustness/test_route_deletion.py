"""Deleting a route with many tasks: in batches, in the background, with progress on the routes list."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import HttpClient, RequestLog
from connections import deletion
from connections.models import Incoming, Outgoing, Route, Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_route(db, settings):
    settings.RETENTION_BATCH = 100
    settings.RETENTION_PAUSE_SECONDS = 0
    client = HttpClient.objects.create(name="Picqer", identifier="picqer", platform="picqer")
    incoming = Incoming.objects.create(name="In", identifier="in", platform="picqer", method="GET",
                                       entity="GET /customers", client=client)
    outgoing = Outgoing.objects.create(name="Out", identifier="out", platform="picqer", method="POST",
                                       entity="POST /customers", client=client)
    route = Route.objects.create(name="Big", identifier="big", incoming=incoming, outgoing=outgoing)
    Task.objects.bulk_create(Task(route=route, dedupe_key=str(n), data={"n": n}) for n in range(1_050))
    RequestLog.objects.create(client=client, method="POST", url="http://x.test/", task=Task.objects.first())
    return route


def test_a_big_route_is_deleted_by_a_worker_while_the_list_says_so(
        signed_in, big_route, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = signed_in.post(reverse("connections:route_delete", args=[big_route.pk]))

    assert response.status_code == 302
    big_route.refresh_from_db()  # still there: a worker deletes it
    assert big_route.deletion_started_at is not None and not big_route.enabled
    assert len(queued) == 1
    page = signed_in.get(reverse("connections:route_list")).content.decode()
    assert "Deleting…" in page
    assert signed_in.post(reverse("connections:route_edit", args=[big_route.pk]), {}).status_code == 302

    with CaptureQueriesContext(connection) as queries:
        assert deletion.delete_route(big_route.pk) == 1_050  # what the worker runs
    assert not Route.objects.filter(pk=big_route.pk).exists() and not Task.objects.exists()
    assert RequestLog.objects.get().task is None  # the log stays, unlinked
    task_deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('DELETE FROM "connections_task"')]
    assert len(task_deletes) >= 11  # batches of at most 100 rows, never one statement for all


def test_a_small_route_is_deleted_at_once(signed_in, big_route):
    Task.objects.filter(pk__in=Task.objects.values_list("pk", flat=True)[:1_000]).delete()

    signed_in.post(reverse("connections:route_delete", args=[big_route.pk]))

    assert not Route.objects.filter(pk=big_route.pk).exists()


def test_deleting_again_after_a_crash_carries_on(big_route):
    Task.objects.filter(pk__in=Task.objects.values_list("pk", flat=True)[:500]).delete()  # half done, then killed
    assert deletion.delete_route(big_route.pk) == 550
    assert deletion.delete_route(big_route.pk) == 0  # the redelivered message finds nothing left

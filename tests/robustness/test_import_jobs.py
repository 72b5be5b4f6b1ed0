"""A big configurations import runs on a worker with progress; a small one stays inline."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clients.models import HttpClient
from connections import import_jobs
from connections.models import ImportJob, Incoming

pytestmark = pytest.mark.django_db


def export_file(count: int, bad: int | None = None) -> SimpleUploadedFile:
    entries = [{"identifier": f"in-{n}", "name": f"Customers {n}", "platform": "picqer", "method": "GET",
                "entity": "GET /customers", "client": "picqer" if n != bad else "nobody", "request_parameters": {}}
               for n in range(count)]
    document = {"format": "alumio-lite/configurations", "version": 1, "incoming": entries, "outgoing": []}
    return SimpleUploadedFile("big.json", json.dumps(document).encode())


@pytest.fixture
def picqer(db, settings):
    settings.IMPORT_INLINE_LIMIT = 20
    return HttpClient.objects.create(name="Picqer", identifier="picqer", platform="picqer",
                                     settings={"base_uri": "http://127.0.0.1:9/api/v1"})


def test_a_big_import_runs_on_a_worker_and_its_page_shows_progress_then_the_report(
        signed_in, picqer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = signed_in.post(reverse("connections:incoming_import"), {"file": export_file(250)})

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("connections:import_job", args=[job.pk])
    assert len(queued) == 1 and job.total == 250 and not Incoming.objects.exists()
    page = signed_in.get(response["Location"]).content.decode()
    assert "Waiting for a worker" in page and 'hx-trigger="every 1s"' in page

    seen = []
    original = import_jobs._progress
    import_jobs._progress = lambda job_id, n: (seen.append(n), original(job_id, n))
    try:
        import_jobs.execute(job.pk)  # what the worker runs
    finally:
        import_jobs._progress = original

    assert seen == [100, 200]  # progress was written while it checked
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FINISHED and job.applied and job.text == ""
    assert Incoming.objects.count() == 250
    page = signed_in.get(reverse("connections:import_job", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "Imported: 250 create" in page and "every 1s" not in page


def test_a_big_import_with_one_error_writes_nothing_and_shows_the_error_first(signed_in, picqer):
    signed_in.post(reverse("connections:incoming_import"), {"file": export_file(250, bad=240)})
    job = import_jobs.execute(ImportJob.objects.get().pk)

    assert not job.applied and not Incoming.objects.exists()
    assert job.changes[0]["identifier"] == "in-240" and "nobody" in job.changes[0]["errors"][0]
    assert "Nothing was imported" in signed_in.get(reverse("connections:import_job", args=[job.pk])).content.decode()


def test_a_small_import_stays_in_the_request(signed_in, picqer):
    response = signed_in.post(reverse("connections:incoming_import"), {"file": export_file(5)})
    assert response.status_code == 200 and Incoming.objects.count() == 5 and not ImportJob.objects.exists()

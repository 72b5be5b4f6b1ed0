"""A file travels a route: downloaded from one platform, kept as base64, uploaded to another.

Pipedrive "Download one file" (bytes) -> route -> Pipedrive "Add file" (multipart), over real
sockets to two fake Pipedrives that enforce the spec's media types; the task and the Run test
offer the file as a download.
"""
from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from connections import engine, run_test
from connections.models import Incoming, Outgoing, Route, RouteTransformer, RunTest, Task, Transformer
from tests.fakes import FakePipedrive

pytestmark = pytest.mark.django_db

TO_UPLOAD = [
    {"kind": "copy", "settings": {"source": "file", "target": "payload.file"}},
    {"kind": "value_setter", "settings": {"key": "payload.deal_id", "value": 42}},
]


@pytest.fixture
def route():
    with FakePipedrive() as source, FakePipedrive() as destination:
        incoming = Incoming.objects.create(
            name="Contract PDF", identifier="contract-in", platform="pipedrive", method="GET",
            entity="GET /v1/files/{id}/download", client=source.make_client("pd-source", log_requests=True),
            request_parameters={"path": {"id": 7}},
        )
        outgoing = Outgoing.objects.create(
            name="Attach to deal", identifier="attach-out", platform="pipedrive", method="POST",
            entity="POST /v1/files", client=destination.make_client("pd-destination"),
        )
        route = Route.objects.create(name="Contracts", identifier="contracts", incoming=incoming, outgoing=outgoing)
        mapping = Transformer.objects.create(name="File to upload", identifier="to-upload", steps=TO_UPLOAD)
        RouteTransformer.objects.create(route=route, transformer=mapping, position=0)
        route.source, route.destination = source, destination
        yield route


def test_a_downloaded_file_is_handed_on_and_uploaded_as_multipart(route, signed_in):
    run = engine.execute_run(engine.start_run(route.incoming).pk)
    assert run.status == "finished", run.error
    task = Task.objects.get(route=route)
    original = FakePipedrive.file_bytes("7")
    assert task.data["file"]["filename"] == "report-7.pdf"
    assert base64.b64decode(task.data["file"]["base64"]) == original

    summary = engine.process_tasks(route.pk)
    assert summary.finished == 1, Task.objects.get(route=route).last_error
    sent = route.destination.published[-1]
    assert sent.header("Content-Type").startswith("multipart/form-data")
    assert sent.body["file"]["content"] == original and sent.body["file"]["filename"] == "report-7.pdf"
    assert sent.body["deal_id"] == "42"

    page = signed_in.get(reverse("connections:task_detail", args=[task.pk])).content.decode()
    assert "Download report-7.pdf (application/octet-stream" in page
    assert task.data["file"]["base64"] not in page  # shortened, not megabytes of base64
    download = signed_in.get(reverse("connections:task_file", args=[task.pk, 0]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == original
    assert 'attachment; filename="report-7.pdf"' in download["Content-Disposition"]
    # The route copied the file into the payload: the task carries it twice, and there is no third.
    assert signed_in.get(reverse("connections:task_file", args=[task.pk, 1])).status_code == 200
    assert signed_in.get(reverse("connections:task_file", args=[task.pk, 2])).status_code == 404


def test_run_test_shows_a_downloaded_file_and_offers_it(route, signed_in, monkeypatch):
    monkeypatch.setattr(run_test, "BACKGROUND", False)
    test = run_test.start(route.incoming)
    assert test.status == RunTest.Status.FINISHED, test.error
    page = signed_in.get(
        reverse("connections:incoming_run_test_status", args=[route.incoming.pk, test.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Download report-7.pdf" in page and "bytes; use Download" in page
    download = signed_in.get(reverse("connections:incoming_run_test_file", args=[route.incoming.pk, test.pk, 0]))
    assert b"".join(download.streaming_content) == FakePipedrive.file_bytes("7")

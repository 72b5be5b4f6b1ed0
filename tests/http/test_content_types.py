"""Integration: each entity's body goes out in the media type it takes, and file answers are kept.

Against the fake Pipedrive over real sockets, which enforces the official spec's media types
the way a validating server does: 415 for a body in another type, 406 for an Accept that
rules out the answer.
"""
from __future__ import annotations

import base64
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from clients import content_types
from clients.http import ClientError, ClientSession
from clients.models import RequestLog
from clients.platforms.registry import get_platform
from clients.platforms.request import RequestBuildError
from tests.fakes import FakePipedrive
from tests.fakes.media import FORM, MULTIPART, OCTET_STREAM, PIPEDRIVE_ANSWERS, PIPEDRIVE_BODIES

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n\x00\xff fake report"


@pytest.fixture
def pipedrive():
    with FakePipedrive(records=5) as fake:
        fake.client = fake.make_client("pd", log_requests=True)
        yield fake


def test_the_fake_refuses_what_the_spec_does(pipedrive):
    """The fake really enforces: JSON to a multipart operation is 415, Accept: JSON on a download 406."""
    with ClientSession(pipedrive.client, max_retries=0) as session:
        with pytest.raises(ClientError) as refused:
            session.send("POST", pipedrive.base_uri + "/v1/files", json={"deal_id": 1})
        assert refused.value.status == 415
        with pytest.raises(ClientError) as refused:
            session.send("GET", pipedrive.base_uri + "/v1/files/7/download")
        assert refused.value.status == 406


def test_the_catalog_agrees_with_the_spec_on_every_media_type():
    """Every Pipedrive entity's content types match the table the fake enforces (taken from the spec)."""
    catalog = get_platform("pipedrive").catalog
    def spec_says(table, entity):
        path = re.sub(r"\{[^}]+\}", "7", entity.path)
        return next((kind for m, p, kind in table if m == entity.method and p.fullmatch(path)), "application/json")

    for entity in catalog:
        if entity.has_body:
            assert entity.content_type == spec_says(PIPEDRIVE_BODIES, entity), entity.key
        assert entity.response_type == spec_says(PIPEDRIVE_ANSWERS, entity), entity.key
    assert sum(e.content_type not in (None, "application/json") for e in catalog) == len(PIPEDRIVE_BODIES)


def test_add_file_sends_multipart_with_the_file_from_base64(pipedrive):
    with ClientSession(pipedrive.client) as session:
        response = session.call("Add file", payload={
            "file": {"filename": "report.pdf", "content_type": "application/pdf",
                     "base64": base64.b64encode(PDF).decode()},
            "deal_id": 42,
        })
    assert response.status == 201
    sent = pipedrive.published[-1]
    assert sent.header("Content-Type").startswith(MULTIPART + "; boundary=")
    assert sent.body["file"] == {"filename": "report.pdf", "content_type": "application/pdf", "content": PDF}
    assert sent.body["deal_id"] == "42"
    log = RequestLog.objects.filter(client=pipedrive.client).latest("pk")
    assert f"file=report.pdf (application/pdf, {len(PDF)} bytes)" in log.request_body
    assert "deal_id=42" in log.request_body


def test_add_file_fetches_a_file_given_by_url_without_the_platforms_credentials(pipedrive):
    with _FileServer(PDF, "application/pdf") as files:
        with ClientSession(pipedrive.client) as session:
            session.call("POST /v1/files", payload={"file": {"url": files.url + "/scans/invoice%2042.pdf"}})
        assert files.headers[0].get("x-api-token") is None  # the file host never sees the API token
    part = pipedrive.published[-1].body["file"]
    assert part == {"filename": "invoice 42.pdf", "content_type": "application/pdf", "content": PDF}


def test_a_file_over_the_cap_is_refused_before_anything_is_sent(pipedrive, settings):
    settings.HTTP_MAX_FILE_BYTES = 10
    with _FileServer(PDF, "application/pdf") as files, ClientSession(pipedrive.client) as session:
        with pytest.raises(RequestBuildError, match="larger than 10 bytes.*HTTP_MAX_FILE_BYTES"):
            session.call("Add file", payload={"file": {"url": files.url + "/big.pdf"}})
        with pytest.raises(RequestBuildError, match="larger than 10 bytes"):
            session.call("Add file", payload={"file": {"base64": base64.b64encode(PDF).decode()}})
    assert not pipedrive.published


@pytest.mark.parametrize("payload,message", [
    ({"file": "report.pdf"}, "“file” is a file; give it as"),
    ({"file": {"filename": "a.pdf", "base64": "not base64!"}}, "not valid base64"),
    ({"file": {"url": "file:///etc/passwd"}}, "must be an http"),
    ({"deal_id": {"nested": 1}}, "must be text, a number"),
])
def test_a_payload_the_media_type_cannot_carry_says_what_to_type(pipedrive, payload, message):
    with ClientSession(pipedrive.client) as session, pytest.raises(RequestBuildError, match=message):
        session.call("Add file", payload=payload)
    assert not pipedrive.published


def test_update_file_details_sends_a_form(pipedrive):
    with ClientSession(pipedrive.client) as session:
        session.call("Update file details", path={"id": 7}, payload={"name": "Q3 report", "description": "final"})
    sent = pipedrive.published[-1]
    assert sent.method == "PUT" and sent.path == "/api/v1/files/7"
    assert sent.header("Content-Type") == FORM
    assert sent.body == {"name": "Q3 report", "description": "final"}


def test_json_entities_still_send_json(pipedrive):
    with ClientSession(pipedrive.client) as session:
        session.call("POST /v1/notes", payload={"content": "hello", "deal_id": 1})
    sent = pipedrive.published[-1]
    assert sent.header("Content-Type") == "application/json" and sent.body == {"content": "hello", "deal_id": 1}


def test_download_one_file_keeps_the_bytes_as_a_file(pipedrive):
    with ClientSession(pipedrive.client) as session:
        response = session.call("Download one file", path={"id": 7})
    asked = pipedrive.received[-1]
    assert asked.header("Accept").startswith(OCTET_STREAM)
    file = response.data["file"]
    assert base64.b64decode(file["base64"]) == FakePipedrive.file_bytes("7")
    assert file["filename"] == "report-7.pdf" and file["content_type"] == OCTET_STREAM
    assert file["size"] == len(FakePipedrive.file_bytes("7"))
    log = RequestLog.objects.filter(client=pipedrive.client).latest("pk")
    assert log.response_body == f"(a file: {OCTET_STREAM}, {file['size']} bytes)"


def test_a_file_answer_over_the_cap_is_a_clear_error(pipedrive, settings):
    settings.HTTP_MAX_FILE_BYTES = 100
    with ClientSession(pipedrive.client) as session, pytest.raises(Exception, match="HTTP_MAX_FILE_BYTES"):
        session.call("Download one file", path={"id": 7})


def test_html_where_json_was_expected_is_still_not_a_file(pipedrive):
    pipedrive.garbage_next()
    with ClientSession(pipedrive.client, max_retries=0) as session, pytest.raises(Exception, match="not JSON"):
        session.call("GET /v1/users/{id}", path={"id": 1})


def test_content_type_helpers():
    assert content_types.accept_header("application/json") == "application/json"
    assert content_types.accept_header(OCTET_STREAM) == f"{OCTET_STREAM}, */*;q=0.8"
    assert content_types.looks_like_file("image/png") and content_types.looks_like_file("application/pdf")
    assert not content_types.looks_like_file("text/html; charset=utf-8")
    assert not content_types.looks_like_file("application/problem+json")


class _FileServer:
    """A plain file host on 127.0.0.1 (not the platform): serves one body, records request headers."""

    def __init__(self, body: bytes, content_type: str):
        self.body, self.content_type, self.headers = body, content_type, []

    def __enter__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - stdlib name
                owner.headers.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(200)
                self.send_header("Content-Type", owner.content_type)
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_connectwise_uploads_documents_as_multipart_and_downloads_them_as_files():
    """The same classes on ConnectWise: its spec's one multipart upload, and its file answers."""
    from tests.fakes import FakeConnectWise

    catalog = get_platform("connectwise").catalog
    assert catalog.get("POST /system/documents").content_type == MULTIPART
    files = {e.key for e in catalog if e.binary_response}
    # Documents, thumbnails and invoice PDFs (os.File), images and the log download (raw http.Response).
    assert {"GET /system/documents/{id}/download", "GET /finance/invoices/{id}/pdf",
            "GET /system/members/{id}/image"} <= files
    assert all(e.method == "GET" for e in catalog if e.binary_response) and len(files) == 9
    with FakeConnectWise() as fake:
        client = fake.make_client("cw")
        with ClientSession(client) as session:
            session.call("POST /system/documents", payload={
                "file": {"filename": "note.txt", "content_type": "text/plain",
                         "base64": base64.b64encode(b"hi").decode()},
                "recordType": "Ticket", "recordId": 12, "title": "Note"})
            answer = session.call("GET /system/documents/{id}/download", path={"id": 5})
    sent = fake.published[-1]
    assert sent.body["file"]["content"] == b"hi" and sent.body["recordType"] == "Ticket"
    assert answer.data["file"]["filename"] == "doc-5.png" and answer.data["file"]["content_type"] == "image/png"
    assert base64.b64decode(answer.data["file"]["base64"]).startswith(b"\x89PNG")


def test_the_call_command_saves_a_downloaded_file(pipedrive, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    target = tmp_path / "report.pdf"
    err = StringIO()
    call_command("call", "pd", "Download one file", "--path", "id=9", "--output", str(target),
                 stdout=StringIO(), stderr=err)
    assert target.read_bytes() == FakePipedrive.file_bytes("9")
    assert "saved report-9.pdf" in err.getvalue()


def test_a_file_where_json_was_expected_is_kept_as_a_file():
    """Picqer's picklist PDF is read as JSON (its PHP client's way); should Picqer answer raw PDF
    bytes, they are kept as a file instead of failing as "not JSON"."""
    from tests.fakes import FakePicqer

    with FakePicqer() as fake:
        client = fake.make_client("pq")
        fake.fail_next(200, body=PDF, headers={"Content-Type": "application/pdf"})
        with ClientSession(client) as session:
            answer = session.call("Get picklist PDF", path={"idpicklist": 3})
    assert answer.data["file"]["content_type"] == "application/pdf"
    assert base64.b64decode(answer.data["file"]["base64"]) == PDF
    assert answer.data["file"]["filename"] == "picklistpdf"

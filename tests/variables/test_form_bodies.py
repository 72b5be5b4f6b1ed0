"""${NAME} in form-encoded and multipart bodies: resolved before the body is encoded, against the fake
Pipedrive over real sockets (it parses both media types); secret values stay out of the request log."""
from __future__ import annotations

import base64

import pytest

from clients.http import ClientSession, PlatformError
from clients.models import RequestLog
from tests.fakes import FakePipedrive
from tests.fakes.media import FORM, MULTIPART
from variables.models import Variable

pytestmark = pytest.mark.django_db
SECRET_NOTE = "form secret&canary=5521"  # characters a form encodes


def define(name: str, value: str, secret: bool = False) -> None:
    Variable.objects.create(name=name, stored={"value": value}, secret=secret)


@pytest.fixture
def pipedrive():
    with FakePipedrive(records=1) as fake:
        fake.client = fake.make_client("pd", log_requests=True)
        yield fake


def test_a_form_body_resolves_names_and_logs_no_secret(pipedrive):
    define("ORG", "acme")
    define("NOTE", SECRET_NOTE, secret=True)
    with ClientSession(pipedrive.client) as session:
        session.call("Update file details", path={"id": 7},
                     payload={"name": "${ORG} Q3 report", "description": "for ${ORG}: ${NOTE}"})
    sent = pipedrive.published[-1]
    assert sent.header("Content-Type") == FORM
    assert sent.body == {"name": "acme Q3 report", "description": f"for acme: {SECRET_NOTE}"}
    log = RequestLog.objects.filter(client=pipedrive.client).latest("pk")
    assert "name=acme+Q3+report" in log.request_body
    assert "canary" not in log.request_body and "5521" not in log.request_body


def test_a_multipart_body_resolves_names_in_fields_and_file_details(pipedrive):
    define("DEAL", "42")
    define("REPORT", "q3-report")
    with ClientSession(pipedrive.client) as session:
        session.call("Add file", payload={
            "file": {"filename": "${REPORT}.pdf", "content_type": "application/pdf",
                     "base64": base64.b64encode(b"%PDF-1.4 x").decode()},
            "deal_id": "${DEAL}",
        })
    sent = pipedrive.published[-1]
    assert sent.header("Content-Type").startswith(MULTIPART)
    assert sent.body["deal_id"] == "42" and sent.body["file"]["filename"] == "q3-report.pdf"


def test_an_unknown_name_in_a_form_body_fails_clearly_before_sending(pipedrive):
    with ClientSession(pipedrive.client) as session, pytest.raises(PlatformError) as raised:
        session.call("Update file details", path={"id": 7}, payload={"name": "${NOT_DEFINED}"})
    assert "unknown environment variable ${NOT_DEFINED}: add it under Settings -> Environment variables" \
        in str(raised.value)
    assert not pipedrive.published

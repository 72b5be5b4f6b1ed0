"""The outgoing preview shows the body in the media type the entity takes."""
import base64

import pytest

from connections.preview import build_outgoing_request
from tests.configurations.conftest import make_client, make_outgoing

pytestmark = pytest.mark.django_db


def _pipedrive():
    return make_client("pipedrive", settings={"base_uri": "https://acme.pipedrive.com/api", "auth_type": "api_token"},
                       secrets={"api_token": "pd-token-secret-1"})


def test_a_form_entity_previews_a_form():
    outgoing = make_outgoing(_pipedrive(), "Update file details")
    built = build_outgoing_request(outgoing, {"path": {"id": 7}, "payload": {"name": "Q3", "description": "a b"}})
    assert built.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert built.body_text == "name=Q3&description=a+b"


def test_a_multipart_entity_previews_its_parts_without_the_bytes():
    outgoing = make_outgoing(_pipedrive(), "Add file")
    content = base64.b64encode(b"0123456789").decode()
    built = build_outgoing_request(outgoing, {"payload": {
        "file": {"filename": "a.pdf", "content_type": "application/pdf", "base64": content}, "deal_id": 3}})
    assert built.headers["Content-Type"] == "multipart/form-data"
    assert built.body_text == "file: file a.pdf (application/pdf, 10 bytes)\ndeal_id: 3"
    by_url = build_outgoing_request(outgoing, {"payload": {"file": {"url": "https://files.example.com/a.pdf"}}})
    assert "the file at https://files.example.com/a.pdf (fetched when the request is sent)" in by_url.body_text

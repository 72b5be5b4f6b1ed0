"""The Outgoing hint shows the entity's body (fields, types, wrapper) and fills a payload to start from;
the preview works on a new configuration, uses the form as typed and warns about a missing wrapper."""
from __future__ import annotations

import html
import json

import pytest
from django.urls import reverse

from clients.platforms import bodies
from clients.platforms.registry import get_platform
from connections.preview import build_outgoing_request
from tests.configurations.conftest import make_client, make_outgoing

pytestmark = pytest.mark.django_db

TIMELY_CREATE_CLIENT = "POST /1.1/{account_id}/clients"


def _hint(client, platform: str, method: str, entity: str) -> str:
    url = reverse("connections:outgoing_params_hint")
    return html.unescape(client.get(url, {"platform": platform, "method": method, "entity": entity}).content.decode())


def test_the_hint_shows_timelys_body_fields_and_wrapper(signed_in):
    page = _hint(signed_in, "timely", "POST", TIMELY_CREATE_CLIENT)
    assert 'wrapped in <code>{"client": {...}}</code>' in page
    # required first, with types
    assert page.index("<code>name</code>") < page.index("<code>active</code>")
    assert "<code>name</code> <span class=\"field-type\">string</span> (required)" in page
    assert "<code>active</code> <span class=\"field-type\">boolean</span>," in page
    assert 'data-fill-template="{"client": {"name": ""}}" data-fill-target="id_payload"' in page


def test_the_hint_explains_multipart_files(signed_in):
    page = _hint(signed_in, "pipedrive", "POST", "POST /v1/files")
    assert "sent as <code>multipart/form-data</code>" in page
    assert "<code>file</code> <span class=\"field-type\">file</span> (required)" in page
    assert '"base64": "..."' in page and '{"url": "https://..."}' in page
    attribute = page.split('data-fill-template="', 1)[1].split('" data-fill-target="id_payload"')[0]
    template = json.loads(html.unescape(attribute))
    assert template == {"file": {"filename": "", "content_type": "", "base64": ""}}


def test_entities_without_a_body_offer_no_payload_template(signed_in):
    page = _hint(signed_in, "picqer", "DELETE", "DELETE /customers/{idcustomer}")
    assert "id_payload" not in page and "Fill preview template" in page


def test_payload_templates():
    pipedrive = get_platform("pipedrive").catalog
    # No required field: every field, so an update starts from what it may change.
    assert bodies.payload_template(pipedrive.get("Update file details")) == {"name": "", "description": ""}
    remote = bodies.payload_template(pipedrive.get("Create a remote file and link it to an item"))
    assert remote == {"file_type": "", "title": "", "item_type": "", "item_id": 0, "remote_location": ""}
    timely = get_platform("timely").catalog
    event = bodies.payload_template(timely.get("Create an event"))
    assert event == {"event": {"day": "", "hours": 0, "minutes": 0}}


def test_the_preview_warns_when_a_wrapped_payload_is_not_wrapped():
    client = make_client("timely", settings={"base_uri": "https://api.timelyapp.com", "client_id": "app"},
                         secrets={"client_secret": "tm-secret-1234"}, tokens={"access_token": "tm-token-5678"})
    outgoing = make_outgoing(client, TIMELY_CREATE_CLIENT)
    flat = build_outgoing_request(outgoing, {"path": {"account_id": 1}, "payload": {"name": "Acme"}})
    assert "wrapped in “client”" in flat.body_note
    wrapped = build_outgoing_request(outgoing, {"path": {"account_id": 1}, "payload": {"client": {"name": "Acme"}}})
    assert wrapped.body_note == ""
    assert json.loads(wrapped.body_text) == {"client": {"name": "Acme"}}  # sent as given, never re-wrapped


def test_a_new_configuration_has_a_preview_that_uses_the_form_as_typed(signed_in):
    client = make_client("picqer", settings={"base_uri": "https://acme.picqer.com/api/v1"})
    page = signed_in.get(reverse("connections:outgoing_create")).content.decode()
    assert 'id="preview-sample"' in page and 'hx-include="#configuration-form"' in page
    form = {"name": "", "platform": "picqer", "method": "PUT", "entity": "PUT /customers/{idcustomer}",
            "client": client.pk, "query": "", "payload": '{"name": "Acme"}',
            "sample": '{"path": {"idcustomer": 7}, "payload": {"email": "a@acme.test"}}'}
    preview = signed_in.post(reverse("connections:outgoing_preview_draft"), form, HTTP_HX_REQUEST="true")
    text = html.unescape(preview.content.decode())
    assert "https://acme.picqer.com/api/v1/customers/7" in text
    assert json.loads(text.split('<pre id="preview-body">', 1)[1].split("</pre>", 1)[0]) == {
        "name": "Acme", "email": "a@acme.test"}


def test_a_saved_configuration_previews_its_unsaved_edits(signed_in):
    client = make_client("picqer", settings={"base_uri": "https://acme.picqer.com/api/v1"})
    outgoing = make_outgoing(client, "PUT /customers/{idcustomer}", payload={"name": "Saved"})
    form = {"name": outgoing.name, "platform": "picqer", "method": "PUT", "entity": outgoing.entity,
            "client": client.pk, "payload": '{"name": "Typed"}', "sample": '{"path": {"idcustomer": 7}}'}
    text = html.unescape(signed_in.post(reverse("connections:outgoing_preview", args=[outgoing.pk]), form,
                                        HTTP_HX_REQUEST="true").content.decode())
    assert '"name": "Typed"' in text and "Saved" not in text


def test_an_incomplete_form_says_what_to_fix_first(signed_in):
    form = {"platform": "picqer", "method": "PUT", "entity": "", "client": "", "sample": "{}"}
    text = signed_in.post(reverse("connections:outgoing_preview_draft"), form, HTTP_HX_REQUEST="true").content.decode()
    assert "Fix the form first" in text and "Choose an entity" in text

"""The hostile inputs issue 11 lists, each once: a field or page error, never a 500.

(tests/robustness/test_hostile_input.py explores beyond these; this file pins the listed ones.)
"""
from __future__ import annotations

import json

import pytest
from django.urls import reverse

from clients.models import HttpClient, RequestLog
from connections.models import Incoming, Outgoing, Route, Run, Task, Transformer

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000
BAD_JSON = ["NaN", "1e309", "-1e309", "9" * 5000, '"\\ud800"', DEEP]


@pytest.fixture
def objects(db):
    client = HttpClient.objects.create(name="Picqer", identifier="picqer", platform="picqer",
                                       settings={"base_uri": "http://127.0.0.1:9/api/v1"})
    incoming = Incoming.objects.create(name="In", identifier="in", platform="picqer", method="GET",
                                       entity="GET /customers", client=client)
    outgoing = Outgoing.objects.create(name="Out", identifier="out", platform="picqer", method="POST",
                                       entity="POST /customers", client=client)
    route = Route.objects.create(name="R", identifier="r", incoming=incoming, outgoing=outgoing)
    return client, incoming, outgoing, route


@pytest.mark.parametrize("value", BAD_JSON)
def test_json_fields_of_incoming_and_outgoing(signed_in, objects, value):
    client, incoming, outgoing, _ = objects
    common = {"name": "X", "identifier": "", "description": "", "platform": "picqer", "client": str(client.pk)}
    response = signed_in.post(reverse("connections:incoming_edit", args=[incoming.pk]), {
        **common, "method": "GET", "entity": "GET /customers", "request_parameters": f'{{"query": {{"q": {value}}}}}'})
    assert response.status_code == 200 and response.context["form"].errors["request_parameters"]
    for field in ("query", "payload"):
        response = signed_in.post(reverse("connections:outgoing_edit", args=[outgoing.pk]), {
            **common, "method": "POST", "entity": "POST /customers", field: f'{{"k": {value}}}'})
        assert response.status_code == 200 and response.context["form"].errors[field]


@pytest.mark.parametrize("kind, field, template", [
    ("value_setter", "value", "{}"),
    ("key_mapper", "mapping", '{{"a": {}}}'),
    ("filter", "conditions", '[{{"key": "a", "op": "equals", "value": {}}}]'),
    ("merge_defaults", "defaults", '{{"a": {}}}'),
])
@pytest.mark.parametrize("value", BAD_JSON)
def test_transformer_settings_and_the_tester(signed_in, kind, field, template, value):
    from connections.transformers import KINDS

    data = {"name": "T", "identifier": "", "description": "", "steps-TOTAL": "1", "steps-0-kind": kind,
            "input": f'{{"a": {value}}}'}
    for f in KINDS[kind].fields:
        data[f"steps-0-{f.name}"] = json.dumps(KINDS[kind].example.get(f.name, "")) \
            if f.type in ("object", "conditions") else str(KINDS[kind].example.get(f.name, ""))
    data[f"steps-0-{field}"] = template.format(value)
    for url in ("connections:transformer_new", "connections:transformer_run"):
        response = signed_in.post(reverse(url), data)
        assert response.status_code < 500, url
    assert not Transformer.objects.exists() or value == "NaN"  # "NaN" in a Value field is plain text
    out = signed_in.post(reverse("connections:transformer_run"), {**data, "steps-TOTAL": "0"}).content.decode()
    assert "The input can" in out  # the tester says what is wrong with its input


@pytest.mark.parametrize("cron", ["*/0 * * * *", "61 * * * *", "0 0 31 2 *", "a b c d e", "0\x00 * * * *"])
def test_scheduler_cron_fields(signed_in, objects, cron):
    response = signed_in.post(reverse("connections:scheduler_list"), {
        "name": "Nightly", "kind": "run_incoming", "incoming": str(objects[1].pk), "cron": cron, "enabled": "on"})
    assert response.status_code in (200, 400) and response.context["form"].errors["cron"]


def test_query_strings_with_ids_that_name_no_row(signed_in, objects):
    _, incoming, _, route = objects
    run = Run.objects.create(incoming=incoming)
    task = Task.objects.create(route=route, run=run, dedupe_key="1", data={})
    for query in ("route=99999999999999999999", "route=²", "run=¹", "run=99999999999999999999"):
        response = signed_in.get(reverse("connections:task_list") + "?" + query)
        assert response.status_code == 200 and task not in response.context["tasks"], query
    for query in ("incoming=99999999999999999999", "incoming=²"):
        assert signed_in.get(reverse("connections:run_list") + "?" + query).status_code == 200
    for query in ("id=99999999999999999999", "id=²"):
        response = signed_in.get(reverse("connections:incoming_export") + "?" + query)
        assert response.status_code == 200 and json.loads(response.content)["incoming"] == []
    assert signed_in.get(reverse("connections:incoming_edit", args=[incoming.pk]) + "?test=¹").status_code == 200
    bulk = signed_in.post(reverse("connections:task_bulk"), {"task": ["99999999999999999999", "²"],
                                                             "action": "retry"})
    assert bulk.status_code == 302


def test_a_request_log_of_a_5000_deep_response(signed_in, objects):
    log = RequestLog.objects.create(client=objects[0], method="GET", url="http://x.test/", status=200,
                                    response_body=DEEP)
    assert signed_in.get(reverse("clients:request_log", args=[log.pk])).status_code == 200


def test_a_5000_deep_configuration_import(signed_in):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("deep.json", ('{"format": ' + DEEP + "}").encode())
    response = signed_in.post(reverse("connections:incoming_import"), {"file": upload, "dry_run": "on"})
    assert response.status_code in (200, 400) and "nesting deeper than" in response.content.decode()

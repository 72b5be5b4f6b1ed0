"""${NAME} belongs to configurations, not to records: a source record whose field reads "${SECRET_NAME}" is sent
as written (the variable's value never goes out in its place), while the outgoing configuration's own payload,
query and lookup criteria still get today's values. Real route, fake Pipedrive over real sockets."""
from __future__ import annotations

import pytest

from connections import engine
from connections.models import Run, Task
from connections.transformers import TransformError, apply_chain
from tests.engine.conftest import build_pipeline
from tests.fakes.platforms import FakePicqer, FakePipedrive
from variables.models import Variable

pytestmark = pytest.mark.django_db
CANARY = "variable-canary-40417"


@pytest.fixture
def pipeline():
    with FakePicqer(records=0) as source, FakePipedrive() as destination:
        yield build_pipeline(source, destination)


def publish(pipeline, record: dict) -> Task:
    run = Run.objects.create(incoming=pipeline.incoming, status=Run.Status.FINISHED)
    task = Task.objects.create(route=pipeline.route, run=run, dedupe_key=str(record["id"]), data=record)
    engine.process_tasks(pipeline.route.pk)
    task.refresh_from_db()
    return task


def test_a_placeholder_in_record_data_is_sent_as_written(pipeline):
    Variable.objects.create(name="PD_API_KEY", stored={"value": CANARY}, secret=True)
    Variable.objects.create(name="OWNER", stored={"value": "17"})
    pipeline.outgoing.payload = {"owner_id": "${OWNER}"}
    pipeline.outgoing.save()

    # A task's data as the route's transformers left it: the record's fields in the payload.
    task = publish(pipeline, {"id": 1, "payload": {"name": "Acme ${PD_API_KEY}", "email": "${OWNER}@example.com"}})

    assert task.status == Task.Status.FINISHED, task.last_error
    sent = pipeline.destination.published[-1].body
    assert sent["name"] == "Acme ${PD_API_KEY}" and sent["email"] == "${OWNER}@example.com"  # data: as written
    assert sent["owner_id"] == "17"  # the configuration's own ${NAME}: resolved
    assert CANARY.encode() not in pipeline.destination.published[-1].raw_body


def test_an_unknown_name_in_the_configuration_still_fails_the_task_clearly(pipeline):
    pipeline.outgoing.payload = {"owner_id": "${NOT_DEFINED}"}
    pipeline.outgoing.save()
    task = publish(pipeline, {"id": 2, "payload": {"name": "Acme", "email": "a@example.com"}})
    assert task.status == Task.Status.FAILED
    assert "unknown environment variable ${NOT_DEFINED}" in task.last_error
    assert not pipeline.destination.published


def test_http_request_steps_send_record_data_as_written(pipeline):
    Variable.objects.create(name="PD_API_KEY", stored={"value": CANARY}, secret=True)
    Variable.objects.create(name="MATCH_FIELDS", stored={"value": "name"})
    steps = [{"kind": "http_request", "settings": {
        "client": pipeline.outgoing.client.identifier, "entity": "GET /v1/persons/search",
        "query": {"term": "&{name}", "fields": "${MATCH_FIELDS}"}, "target": "found"}}]
    try:
        apply_chain(steps, {"name": "${PD_API_KEY}"})
    except TransformError:
        pass  # whatever the fake answers: what it was asked is the point
    asked = pipeline.destination.received[-1]
    assert asked.path.endswith("/v1/persons/search")
    assert asked.query["term"] == "${PD_API_KEY}"  # the record's value, as written
    assert asked.query["fields"] == "name"  # the step's own ${NAME}: resolved
    assert CANARY not in str(asked.query)

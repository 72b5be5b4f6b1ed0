"""${NAME} belongs to what the user configured, never to what a platform answered: a next-page cursor reading
"${SECRET_NAME}" goes back to the platform as written (the variable's value never goes out in its place), and so
does a value an input transformer read from a storage, while the configuration's own ${NAME}s still get today's
values on every page. Fake Pipedrive over real sockets; the incoming run, Run test and `manage.py call`."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from clients.http import ClientSession
from connections import run_test
from connections.models import Incoming, IncomingTransformer, Run, RunTest, Transformer
from connections.subscription import execute_run, start_run
from storages import store
from storages.models import Storage
from tests.fakes.platforms import FakePipedrive
from tests.fakes.server import Received, Reply
from variables.models import Variable

pytestmark = pytest.mark.django_db
CANARY = "variable-canary-58213"
CURSOR = "${PD_SECRET}"  # what the platform sends back as its next-page cursor


class CursorPipedrive(FakePipedrive):
    """Two pages of /v2 records; the first page's next_cursor is whatever `cursor` is set to."""

    cursor = CURSOR

    def list_page(self, request: Received) -> Reply:
        if "cursor" not in request.query:
            return Reply(200, {"success": True, "data": self.records(0, 2), "additional_data": {
                "next_cursor": self.cursor}})
        return Reply(200, {"success": True, "data": self.records(2, 2), "additional_data": {"next_cursor": None}})


@pytest.fixture
def fake():
    Variable.objects.create(name="PD_SECRET", stored={"value": CANARY}, secret=True)
    Variable.objects.create(name="OWNER", stored={"value": "17"})
    with CursorPipedrive(records=4) as fake:
        yield fake


def never_sent_the_secret(fake: FakePipedrive) -> bool:
    return all(CANARY not in str(r.query) and CANARY not in r.path for r in fake.received)


@pytest.mark.parametrize("cursor", [CURSOR, "${NOBODY_DEFINED_THIS}"])
def test_a_next_page_cursor_is_sent_as_written(fake, cursor):
    fake.cursor = cursor
    with ClientSession(fake.make_client("pd")) as session:
        pages = list(session.paginate("GET /v2/deals", query={"owner_id": "${OWNER}"}))
    assert [p.raw_count for p in pages] == [2, 2]
    first, second = fake.received
    assert "cursor" not in first.query and second.query["cursor"] == cursor  # the platform's, as written
    assert first.query["owner_id"] == second.query["owner_id"] == "17"  # the user's own ${NAME}: resolved
    assert never_sent_the_secret(fake)


def make_incoming(fake: FakePipedrive, query: dict) -> Incoming:
    return Incoming.objects.create(
        name="Deals", identifier="deals-in", platform="pipedrive", method="GET", entity="GET /v2/deals",
        client=fake.make_client("pd"), pagination=True, request_parameters={"query": query})


def run_it(incoming: Incoming, how: str, monkeypatch) -> None:
    if how == "run":
        run = execute_run(start_run(incoming).pk)
        assert run.status == Run.Status.FINISHED, run.error
    else:
        monkeypatch.setattr(run_test, "BACKGROUND", False)
        test = run_test.start(incoming)
        assert test.status == RunTest.Status.FINISHED, test.error


@pytest.mark.parametrize("how", ["run", "run test"])
def test_an_incoming_sends_the_platforms_cursor_as_written(fake, how, monkeypatch):
    run_it(make_incoming(fake, {"owner_id": "${OWNER}"}), how, monkeypatch)
    first, second = fake.received
    assert second.query["cursor"] == CURSOR
    assert first.query["owner_id"] == second.query["owner_id"] == "17"
    assert never_sent_the_secret(fake)


@pytest.mark.parametrize("how", ["run", "run test"])
def test_a_stored_value_an_input_transformer_adds_is_sent_as_written(fake, how, monkeypatch):
    # e.g. saved from a record by an earlier run: platform data, however it reads
    store.save(Storage.objects.create(name="Marks", identifier="marks"), "since", CURSOR)
    incoming = make_incoming(fake, {"owner_id": "${OWNER}"})
    reader = Transformer.objects.create(name="Since", identifier="since", steps=[{"kind": "get_from_storage",
        "settings": {"storage": "marks", "key": "since", "target": "query.updated_since"}}])
    IncomingTransformer.objects.create(incoming=incoming, transformer=reader, stage="input")
    run_it(incoming, how, monkeypatch)
    assert [r.query["updated_since"] for r in fake.received] == [CURSOR, CURSOR]
    assert [r.query["owner_id"] for r in fake.received] == ["17", "17"]
    assert never_sent_the_secret(fake)


def test_an_unknown_name_in_the_configuration_still_fails_the_run_clearly(fake):
    run = execute_run(start_run(make_incoming(fake, {"owner_id": "${NOT_DEFINED}"})).pk)
    assert run.status == Run.Status.FAILED
    assert "unknown environment variable ${NOT_DEFINED}" in run.error
    assert fake.received == []


def test_the_call_command_sends_the_platforms_cursor_as_written(fake):
    fake.make_client("pd")
    call_command("call", "pd", "GET /v2/deals", "--all-pages", "--query", "owner_id=${OWNER}",
                 stdout=StringIO(), stderr=StringIO())
    first, second = fake.received
    assert second.query["cursor"] == CURSOR and first.query["owner_id"] == second.query["owner_id"] == "17"
    assert never_sent_the_secret(fake)

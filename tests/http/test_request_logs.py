"""RequestLog rows, the on_exchange stream and the client's last_used_at/last_error (unit, `responses`)."""
import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.http import ClientError
from clients.models import HttpClient, RequestLog
from connections.models import Incoming, Outgoing, Route, Run, Task

from .helpers import BASES, make_client, session

pytestmark = pytest.mark.django_db

ME = BASES["picqer"] + "/users/me"


@responses.activate
def test_logging_off_writes_no_row_on_success_but_marks_the_client_used():
    client = make_client("picqer", log_requests=False)
    responses.add(responses.GET, ME, json={"iduser": 1})
    s, _ = session(client)
    s.call("GET /users/me")
    assert RequestLog.objects.count() == 0
    client.refresh_from_db()
    assert client.last_used_at is not None
    assert client.last_error == ""


@responses.activate
def test_logging_on_writes_one_row_per_exchange_with_redacted_details():
    client = make_client("picqer", log_requests=True)
    url = BASES["picqer"] + "/customers"
    responses.add(responses.POST, url, status=201, json={"idcustomer": 9, "name": "Acme"})
    s, _ = session(client)
    s.call("POST /customers", query={"sincedate": "2024-01-01"}, payload={"name": "Acme"})
    log = RequestLog.objects.get()
    assert (log.client_id, log.method, log.status) == (client.pk, "POST", 201)
    assert log.url == url + "?sincedate=2024-01-01"
    assert log.request_headers["Authorization"] == "[redacted]"
    assert log.request_headers["User-Agent"].startswith("alumio-lite")
    assert log.request_body == '{"name": "Acme"}'
    assert '"idcustomer": 9' in log.response_body or '"idcustomer":9' in log.response_body
    assert log.response_headers["Content-Type"] == "application/json"
    assert log.error == ""
    assert log.duration_ms >= 0


@responses.activate
def test_failures_are_always_logged_even_with_logging_off():
    client = make_client("picqer", log_requests=False)
    responses.add(responses.GET, ME, status=404, json={"error": True, "error_code": 20, "error_message": "Not found"})
    s, _ = session(client)
    with pytest.raises(ClientError) as caught:
        s.call("GET /users/me")
    assert "Check the Base URI" in str(caught.value)
    log = RequestLog.objects.get()
    assert log.status == 404
    assert "Picqer answered HTTP 404" in log.error
    client.refresh_from_db()
    assert "HTTP 404" in client.last_error


@responses.activate
def test_success_after_a_failure_clears_last_error():
    client = make_client("picqer")
    responses.add(responses.GET, ME, status=503)
    responses.add(responses.GET, ME, json={})
    s, _ = session(client)
    s.call("GET /users/me")
    client.refresh_from_db()
    assert client.last_error == ""
    assert RequestLog.objects.filter(status=503).count() == 1


@responses.activate
def test_bodies_are_cut_at_the_configured_limit(settings):
    settings.REQUEST_LOG_BODY_LIMIT = 50
    client = make_client("picqer", log_requests=True)
    responses.add(responses.GET, ME, json={"text": "x" * 500})
    s, _ = session(client)
    s.call("GET /users/me")
    body = RequestLog.objects.get().response_body
    assert body.startswith('{"text": "xxx') or body.startswith('{"text":"xxx')
    assert "cut at 50 characters" in body
    assert len(body) < 100


@responses.activate
def test_usage_is_one_update_query_and_throttled_while_all_is_well():
    client = make_client("picqer")
    responses.add(responses.GET, ME, json={})
    s, _ = session(client)
    with CaptureQueriesContext(connection) as first:
        s.call("GET /users/me")
    with CaptureQueriesContext(connection) as second:
        s.call("GET /users/me")
    assert [q["sql"].split()[0] for q in first.captured_queries] == ["UPDATE"]
    assert "last_used_at" in first.captured_queries[0]["sql"]
    assert "updated_at" not in first.captured_queries[0]["sql"]  # not a save() of the whole row
    assert second.captured_queries == []


@responses.activate
def test_on_exchange_streams_each_attempt():
    client = make_client("picqer", log_requests=False)
    responses.add(responses.GET, ME, status=500)
    responses.add(responses.GET, ME, json={"ok": True})
    seen = []
    s, _ = session(client, on_exchange=seen.append)
    s.call("GET /users/me")
    assert [e["status"] for e in seen] == [500, 200]
    assert seen[0]["ok"] is False and seen[1]["ok"] is True
    assert seen[0]["request_headers"]["Authorization"] == "[redacted]"
    assert "log_id" in seen[0] and "log_id" not in seen[1]  # only the failure became a row


@responses.activate
def test_logs_link_to_the_run_and_the_task():
    client = make_client("picqer", log_requests=True)
    incoming = Incoming.objects.create(name="In", identifier="in", platform="picqer", entity="GET /customers",
                                       client=client)
    outgoing = Outgoing.objects.create(name="Out", identifier="out", platform="picqer", entity="POST /customers",
                                       client=client)
    route = Route.objects.create(name="R", identifier="r", incoming=incoming, outgoing=outgoing)
    run = Run.objects.create(incoming=incoming)
    task = Task.objects.create(route=route, run=run, dedupe_key="1", data={"id": 1})
    responses.add(responses.GET, ME, json={})
    s, _ = session(client, run=run, task=task.pk)
    s.call("GET /users/me")
    log = RequestLog.objects.get()
    assert log.run_id == run.pk and log.task_id == task.pk


def test_client_is_not_saved_whole():
    """The session never calls save() on the client (other fields may change concurrently)."""
    client = make_client("picqer")
    HttpClient.objects.filter(pk=client.pk).update(name="Renamed elsewhere")
    with responses.RequestsMock() as mocked:
        mocked.add(responses.GET, ME, status=500)
        s, _ = session(client, max_retries=0)
        with pytest.raises(Exception):  # noqa: B017 - any PlatformError
            s.call("GET /users/me")
    client.refresh_from_db()
    assert client.name == "Renamed elsewhere"
    assert "HTTP 500" in client.last_error

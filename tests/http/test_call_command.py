"""Integration: `manage.py call --all-pages` through a saved HTTP Client against each real local fake server."""
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clients.models import RequestLog
from tests.fakes import FakeConnectWise, FakeCopper, FakePicqer, FakePipedrive, FakeTimely

pytestmark = pytest.mark.django_db


def call(*args):
    out, err = StringIO(), StringIO()
    call_command("call", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def all_records(fake):
    return [fake.record(i) for i in range(1, fake.total + 1)]


def test_picqer_all_pages_by_offset(fake_picqer):
    fake_picqer.make_client("picqer")
    out, err = call("picqer", "Get all customers", "--all-pages")
    assert json.loads(out) == all_records(fake_picqer)
    assert [r.query.get("offset") for r in fake_picqer.received] == ["0", "100", "200"]
    assert all(r.path == "/api/v1/customers" for r in fake_picqer.received)
    assert "250 records in 3 pages" in err


def test_pipedrive_v1_start_limit(fake_pipedrive):
    fake_pipedrive.make_client("pipedrive")
    out, _ = call("pipedrive", "GET /v1/notes", "--all-pages", "--query", "limit=100")
    assert json.loads(out) == all_records(fake_pipedrive)
    assert [r.query["start"] for r in fake_pipedrive.received] == ["0", "100", "200"]


def test_pipedrive_v2_cursor(fake_pipedrive):
    fake_pipedrive.make_client("pipedrive")
    out, _ = call("pipedrive", "GET /v2/deals", "--all-pages", "--query", "limit=120")
    assert json.loads(out) == all_records(fake_pipedrive)
    cursors = [r.query.get("cursor") for r in fake_pipedrive.received]
    assert cursors[0] is None and all(cursors[1:]) and len(cursors) == 3


def test_pipedrive_oauth_mode():
    with FakePipedrive(records=30, access_token="pd-access-live-1") as fake:
        fake.make_client("pipedrive-oauth")
        out, _ = call("pipedrive-oauth", "GET /v1/notes", "--all-pages")
        assert len(json.loads(out)) == 30
        assert fake.received[0].header("Authorization") == "Bearer pd-access-live-1"


def test_connectwise_follows_link_headers(fake_connectwise):
    fake_connectwise.make_client("cw")
    out, _ = call("cw", "GET /company/companies", "--all-pages", "--query", "pageSize=100")
    assert json.loads(out) == all_records(fake_connectwise)
    assert [r.query.get("page") for r in fake_connectwise.received] == ["1", "2", "3"]
    assert all(r.header("clientId") == fake_connectwise.client_id for r in fake_connectwise.received)


def test_connectwise_default_page_size_is_the_maximum(fake_connectwise):
    fake_connectwise.make_client("cw")
    out, err = call("cw", "GET /company/companies", "--all-pages")
    assert len(json.loads(out)) == 250
    assert fake_connectwise.received[0].query["pageSize"] == "1000"
    assert "in 1 page" in err


@pytest.mark.parametrize(("entity", "param"), [("List all events", "page"), ("List all clients", "offset")])
def test_timely_page_and_offset(fake_timely, entity, param):
    fake_timely.make_client("timely")
    out, _ = call("timely", entity, "--path", "account_id=61234", "--all-pages")
    assert json.loads(out) == all_records(fake_timely)
    assert {r.path for r in fake_timely.received} <= {"/1.1/61234/events", "/1.1/61234/clients"}
    assert len(fake_timely.received) == 3 and param in fake_timely.received[0].query


def test_copper_search_posts_pages(fake_copper):
    fake_copper.make_client("copper")
    out, _ = call("copper", "List Companies (Search)", "--all-pages",
                  "--payload", '{"sort_by": "date_modified", "sort_direction": "desc"}')
    assert json.loads(out) == all_records(fake_copper)
    bodies = [r.body for r in fake_copper.received]
    assert [b["page_number"] for b in bodies] == [1, 2]
    assert all(r.method == "POST" and b["page_size"] == 200 and b["sort_by"] == "date_modified"
               for r, b in zip(fake_copper.received, bodies, strict=True))


def test_single_call_prints_the_json_response(fake_picqer):
    fake_picqer.make_client("picqer")
    out, _ = call("picqer", "Get single customer", "--path", "idcustomer=42")
    assert json.loads(out) == fake_picqer.record(42)
    assert fake_picqer.received[0].path == "/api/v1/customers/42"


def test_publish_through_the_destination(fake_copper):
    fake_copper.make_client("copper")
    out, _ = call("copper", "Create a New Company", "--payload", '{"name": "Demo Company"}')
    assert json.loads(out)["name"] == "Demo Company"
    assert fake_copper.published[0].body == {"name": "Demo Company"}


def test_wrong_credentials_are_a_clear_error_and_logged(fake_picqer):
    client = fake_picqer.make_client("picqer")
    client.secrets = {"api_key": "not-the-right-key"}
    client.save()
    with pytest.raises(CommandError) as caught:
        call("picqer", "GET /customers", "--all-pages")
    assert "HTTP 401" in str(caught.value) and "credentials" in str(caught.value)
    assert "not-the-right-key" not in str(caught.value)
    assert RequestLog.objects.get().status == 401


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "GET /customers"], "no HTTP Client with identifier 'nobody'; known: picqer"),
        (["picqer", "Get all unicorns"], "Picqer has no entity 'Get all unicorns'"),
        (["picqer", "Get single customer"], "needs path parameter idcustomer"),
        (["picqer", "Get single customer", "--path", "idcustomer=1", "--path", "nope=2"], "no path parameter nope"),
        (["picqer", "POST /customers", "--payload", '{"name": '], "--payload is not valid JSON"),
        (["picqer", "GET /customers", "--query", "novalue"], "--query expects key=value"),
        (["picqer", "GET /customers", "--method", "PATCH"], "no PATCH entity exists"),
    ],
)
def test_bad_input_is_a_clear_error(fake_picqer, args, message):
    fake_picqer.make_client("picqer")
    with pytest.raises(CommandError) as caught:
        call(*args)
    assert message in str(caught.value)


def test_platform_errors_name_the_page(fake_picqer, settings):
    settings.HTTP_MAX_RETRIES = 0
    fake_picqer.make_client("picqer")
    fake_picqer.fail_next(500)
    with pytest.raises(CommandError, match="page 1: Picqer answered HTTP 500"):
        call("picqer", "GET /customers", "--all-pages")


def test_garbage_on_a_later_page_names_that_page(fake_picqer):
    fake_picqer.make_client("picqer")
    original = fake_picqer.answer

    def garbage_on_page_two(request):
        if request.query.get("offset") == "100":
            fake_picqer.garbage_next()
        return original(request)

    fake_picqer.answer = garbage_on_page_two
    with pytest.raises(CommandError, match="page 2: Picqer answered HTTP 200 with a body that is not JSON"):
        call("picqer", "GET /customers", "--all-pages")


def test_page_cap_from_the_command_line():
    with FakePicqer(records=1000) as fake:
        fake.make_client("picqer")
        with pytest.raises(CommandError, match="page cap \\(2\\)"):
            call("picqer", "GET /customers", "--all-pages", "--page-cap", "2")
        assert len(fake.received) == 2


def test_copper_and_connectwise_fakes_refuse_partial_credentials():
    with FakeConnectWise(records=5) as fake:
        client = fake.make_client("cw")
        client.secrets = {**client.secrets, "client_id": "another-integration"}
        client.save()
        with pytest.raises(CommandError, match="HTTP 401"):
            call("cw", "GET /company/companies")
    with FakeCopper(records=5) as fake:
        client = fake.make_client("copper")
        client.settings = {**client.settings, "user_email": "someone@else.test"}
        client.save()
        with pytest.raises(CommandError, match="HTTP 401"):
            call("copper", "List Companies (Search)")


def test_timely_filter_reports_pages_in_the_post_body(fake_timely):
    fake_timely.make_client("timely")
    payload = json.dumps({"since": "2024-01-01", "until": "2024-01-31"})
    out, err = call("timely", "Filter reports", "--path", "account_id=61234", "--payload", payload, "--all-pages")
    assert json.loads(out) == all_records(fake_timely)
    assert all(r.method == "POST" and r.path == "/1.1/61234/reports/filter" for r in fake_timely.received)
    assert [r.body["offset"] for r in fake_timely.received] == [0, 100, 200]
    assert all(r.body["limit"] == 100 and r.body["since"] == "2024-01-01" for r in fake_timely.received)
    assert "250 records in 3 pages" in err


def test_timely_filter_reports_ends_on_an_empty_page():
    with FakeTimely(records=200) as fake:
        fake.make_client("timely")
        out, err = call("timely", "Filter reports", "--path", "account_id=61234", "--all-pages")
        assert len(json.loads(out)) == 200
        assert [r.body["offset"] for r in fake.received] == [0, 100, 200]
        assert "200 records in 3 pages" in err

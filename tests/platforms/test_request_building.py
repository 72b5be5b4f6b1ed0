"""build_request: the seed examples, one-segment encoding of path values, clear errors."""
import http.server
import threading
from urllib.parse import unquote, urlsplit

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from clients.platforms.base import UnknownEntity
from clients.platforms.registry import get_platform
from clients.platforms.request import (
    BuiltRequest,
    InvalidBaseUri,
    InvalidParameters,
    InvalidPathParameter,
    MissingPathParameter,
    RequestBuildError,
    UnknownPathParameter,
    build_request,
    unfilled_placeholders,
)

PICQER = "https://acme.picqer.com/api/v1"
PIPEDRIVE = "https://acme.pipedrive.com/api"
CONNECTWISE = "https://api-na.myconnectwise.net/v4_6_release/apis/3.0"
TIMELY = "https://api.timelyapp.com"
COPPER = "https://api.copper.com/developer_api/v1"


def path_of(built: BuiltRequest) -> str:
    return urlsplit(built.url).path


# --- the seed examples from the reference README -----------------------------------------


def test_picqer_get_single_customer():
    built = build_request("picqer", "Get single customer", PICQER, path={"idcustomer": 89338142})
    assert built == BuiltRequest("GET", "https://acme.picqer.com/api/v1/customers/89338142", {}, None)
    assert path_of(built) == "/api/v1/customers/89338142"


def test_pipedrive_get_one_user():
    built = build_request("pipedrive", "Get one user", PIPEDRIVE, path={"id": 22013967})
    assert built.url == "https://acme.pipedrive.com/api/v1/users/22013967"
    assert built.url.endswith("/v1/users/22013967")


def test_connectwise_get_address_format():
    built = build_request("connectwise", "AddressFormats - Get AddressFormat", CONNECTWISE, path={"id": 4})
    assert built.method == "GET"
    assert built.url == CONNECTWISE + "/company/addressFormats/4"


def test_timely_all_reports_is_a_post_read():
    body = {"since": "2025-01-01", "until": "2025-01-31"}
    built = build_request("timely", "All Reports", TIMELY, path={"account_id": 61234}, payload=body)
    assert (built.method, path_of(built), built.json) == ("POST", "/1.1/61234/reports", body)


def test_timely_create_a_client():
    payload = {"client": {"name": "Uniq name"}}
    built = build_request("timely", "Create a client", TIMELY, path={"account_id": "123123"}, payload=payload)
    assert (built.method, path_of(built), built.json) == ("POST", "/1.1/123123/clients", payload)


def test_copper_create_a_new_company():
    built = build_request("copper", "Create a New Company", COPPER, payload={"name": "Demo Company"})
    assert (built.method, built.url) == ("POST", COPPER + "/companies")
    assert built.json == {"name": "Demo Company"}


def test_entity_object_and_key_work_like_names():
    picqer = get_platform("picqer")
    entity = picqer.catalog.get("GET /customers/{idcustomer}")
    by_object = build_request(picqer, entity, PICQER + "/", path={"idcustomer": 1})
    assert by_object.url == PICQER + "/customers/1"  # a trailing slash on the Base URI does not double


def test_query_is_passed_on_with_lowercase_booleans_and_no_nones():
    built = build_request(
        "picqer", "Get all customers", PICQER,
        query={"offset": 100, "inactive": True, "search": None, "ids": [1, 2]},
    )
    assert built.params == {"offset": 100, "inactive": "true", "ids": [1, 2]}


# --- one value, one segment ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value,segment",
    [
        ("../admin", "..%2Fadmin"),
        ("a/b", "a%2Fb"),
        ("%2F", "%252F"),
        ("with space", "with%20space"),
        ("ünïcödé", "%C3%BCn%C3%AFc%C3%B6d%C3%A9"),
        ("a?b#c", "a%3Fb%23c"),
        ("...", "..."),
        ("x\r\nHost: evil", "x%0D%0AHost%3A%20evil"),
    ],
)
def test_path_values_are_encoded_as_one_segment(value, segment):
    built = build_request("picqer", "Get single customer", PICQER, path={"idcustomer": value})
    assert built.url == f"{PICQER}/customers/{segment}"


@pytest.mark.parametrize("value", [".", "..", "", "   "])
def test_values_that_would_traverse_or_vanish_are_refused(value):
    with pytest.raises(InvalidPathParameter, match="idcustomer"):
        build_request("picqer", "Get single customer", PICQER, path={"idcustomer": value})


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], True])
def test_non_scalar_path_values_are_refused(value):
    with pytest.raises(InvalidPathParameter, match="idcustomer"):
        build_request("picqer", "Get single customer", PICQER, path={"idcustomer": value})


@given(st.text(min_size=1).filter(lambda v: v.strip() and v not in (".", "..")))
def test_any_text_stays_one_segment(value):
    built = build_request("connectwise", "AddressFormats - Get AddressFormat", CONNECTWISE, path={"id": value})
    prefix = CONNECTWISE + "/company/addressFormats/"
    assert built.url.startswith(prefix)
    segment = built.url[len(prefix):]
    assert "/" not in segment and "?" not in segment and "#" not in segment
    assert unquote(segment, errors="strict") == value


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_encoded_values_reach_a_real_server_as_one_segment():
    """requests re-decodes some escapes; check what actually arrives over a socket."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}/api/v1"
        for value in ("../admin", "a/b", "%2F..", "ünï cödé"):
            built = build_request("picqer", "Get single customer", base, path={"idcustomer": value})
            requests.get(built.url, params=built.params, timeout=5)
            arrived = _Recorder.seen[-1]
            assert arrived.startswith("/api/v1/customers/")
            segment = arrived[len("/api/v1/customers/"):]
            assert "/" not in segment and unquote(segment) == value
    finally:
        server.shutdown()
        server.server_close()


# --- errors before anything is sent --------------------------------------------------------


def test_missing_path_parameter_names_it_and_the_entity():
    with pytest.raises(MissingPathParameter) as caught:
        build_request("timely", "Create a client", TIMELY, path={})
    assert "account_id" in str(caught.value) and "Create a client" in str(caught.value)
    assert isinstance(caught.value, RequestBuildError) and isinstance(caught.value, ValueError)


def test_none_counts_as_missing():
    with pytest.raises(MissingPathParameter, match="idcustomer"):
        build_request("picqer", "Get single customer", PICQER, path={"idcustomer": None})


def test_unknown_path_parameter():
    with pytest.raises(UnknownPathParameter, match="customer_id") as caught:
        build_request("picqer", "Get single customer", PICQER, path={"idcustomer": 1, "customer_id": 2})
    assert "idcustomer" in str(caught.value)  # says what was expected


@pytest.mark.parametrize("kwargs", [{"path": [1]}, {"path": "id=4"}, {"query": "a=1"}, {"query": [("a", 1)]}])
def test_path_and_query_must_be_objects(kwargs):
    with pytest.raises(InvalidParameters, match="must be an object"):
        build_request("connectwise", "AddressFormats - Get List of AddressFormat", CONNECTWISE, **kwargs)


def test_nested_query_values_are_refused():
    with pytest.raises(InvalidParameters, match="conditions"):
        build_request(
            "connectwise", "AddressFormats - Get List of AddressFormat", CONNECTWISE,
            query={"conditions": {"name": "US"}},
        )


def test_get_takes_no_payload():
    with pytest.raises(InvalidParameters, match="GET"):
        build_request("picqer", "Get all customers", PICQER, payload={"name": "x"})
    assert build_request("picqer", "Get all customers", PICQER, payload={}).json is None


@pytest.mark.parametrize(
    "base,message",
    [
        ("", "no Base URI"),
        ("https://{subdomain}.picqer.com/api/v1", "{subdomain}"),
        ("acme.picqer.com/api/v1", "https://"),
        ("https://acme.picqer.com/api/v1?x=1", "query string"),
    ],
)
def test_base_uri_problems(base, message):
    with pytest.raises(InvalidBaseUri, match=message.replace("{", r"\{").replace("?", r"\?")):
        build_request("picqer", "Get all customers", base)


def test_default_base_uris_show_their_placeholders():
    assert unfilled_placeholders(get_platform("picqer").field("base_uri").default) == ["subdomain"]
    assert unfilled_placeholders(get_platform("timely").field("base_uri").default) == []


def test_pipedrive_oauth_endpoints_are_not_requestable_entities():
    with pytest.raises(UnknownEntity, match="OAuth endpoint, not a data entity"):
        build_request("pipedrive", "POST /oauth/token", PIPEDRIVE, payload={"grant_type": "refresh_token"})


@pytest.mark.parametrize(
    "slug,entity,base,path,expected",
    [
        ("timely", "List all accounts", "https://api.timelyapp.com/1.1", None, "https://api.timelyapp.com/1.1/accounts"),
        ("pipedrive", "Get one user", PIPEDRIVE + "/v1", {"id": 7}, PIPEDRIVE + "/v1/users/7"),
        ("pipedrive", "GET /v2/deals", PIPEDRIVE + "/v1", None, PIPEDRIVE + "/v2/deals"),
        ("picqer", "Get all customers", PICQER, None, PICQER + "/customers"),
        ("copper", "Fetch Account Details", COPPER, None, COPPER + "/account"),
        ("timely", "List all accounts", "https://1.1", None, "https://1.1/1.1/accounts"),
    ],
)
def test_a_version_already_in_the_base_uri_is_not_doubled(slug, entity, base, path, expected):
    assert build_request(slug, entity, base, path=path).url == expected

"""Where each platform's credentials go on a request, and clear errors for unusable ones (unit, `responses`)."""
import base64

import pytest
import responses

from clients import oauth
from clients.http import AccessNotGranted, ClientError, CredentialsError
from clients.models import RequestLog

from .helpers import (
    BASES,
    COPPER_EMAIL,
    COPPER_KEY,
    CW_CLIENT_ID,
    CW_PRIVATE,
    CW_PUBLIC,
    PICQER_KEY,
    PIPEDRIVE_TOKEN,
    TIMELY_TOKEN,
    make_client,
    session,
)

pytestmark = pytest.mark.django_db


def sent_headers():
    return responses.calls[-1].request.headers


@responses.activate
def test_picqer_basic_with_key_as_user_and_empty_password_plus_user_agent():
    responses.add(responses.GET, BASES["picqer"] + "/users/me", json={})
    s, _ = session(make_client("picqer"))
    s.call("GET /users/me")
    headers = sent_headers()
    assert headers["Authorization"] == "Basic " + base64.b64encode(f"{PICQER_KEY}:".encode()).decode()
    assert headers["User-Agent"].startswith("alumio-lite")
    assert headers["Accept"] == "application/json"


@responses.activate
def test_pipedrive_token_goes_in_the_x_api_token_header_not_the_query():
    responses.add(responses.GET, BASES["pipedrive"] + "/v1/users/me", json={"success": True, "data": {}})
    s, _ = session(make_client("pipedrive"))
    s.call("GET /v1/users/me")
    assert sent_headers()["x-api-token"] == PIPEDRIVE_TOKEN
    assert "Authorization" not in sent_headers()
    assert "api_token" not in responses.calls[-1].request.url


@responses.activate
def test_pipedrive_oauth_mode_sends_a_bearer_token():
    responses.add(responses.GET, BASES["pipedrive"] + "/v1/users/me", json={"success": True, "data": {}})
    s, _ = session(make_client("pipedrive_oauth"))
    s.call("GET /v1/users/me")
    assert sent_headers()["Authorization"] == "Bearer pd-access-Uv56"
    assert "x-api-token" not in sent_headers()


@responses.activate
def test_connectwise_basic_company_plus_public_colon_private_and_client_id_header():
    responses.add(responses.GET, BASES["connectwise"] + "/system/info", json={})
    s, _ = session(make_client("connectwise"))
    s.call("GET /system/info")
    expected = base64.b64encode(f"acme+{CW_PUBLIC}:{CW_PRIVATE}".encode()).decode()
    assert sent_headers()["Authorization"] == f"Basic {expected}"
    assert sent_headers()["clientId"] == CW_CLIENT_ID


@responses.activate
def test_timely_bearer():
    responses.add(responses.GET, BASES["timely"] + "/1.1/accounts", json=[])
    s, _ = session(make_client("timely"))
    s.call("GET /1.1/accounts")
    assert sent_headers()["Authorization"] == f"Bearer {TIMELY_TOKEN}"


@responses.activate
def test_copper_api_key_headers():
    responses.add(responses.GET, BASES["copper"] + "/account", json={})
    s, _ = session(make_client("copper"))
    s.call("GET /account")
    headers = sent_headers()
    assert headers["X-PW-AccessToken"] == COPPER_KEY
    assert headers["X-PW-Application"] == "developer_api"
    assert headers["X-PW-UserEmail"] == COPPER_EMAIL
    assert headers["Content-Type"] == "application/json"
    assert "Authorization" not in headers


@responses.activate
def test_copper_oauth_mode_sends_bearer_and_no_api_key_headers():
    responses.add(responses.GET, BASES["copper"] + "/account", json={})
    s, _ = session(make_client("copper_oauth"))
    s.call("GET /account")
    assert sent_headers()["Authorization"] == "Bearer cp-access-Wx78"
    assert "X-PW-AccessToken" not in sent_headers()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc\r\nX-Evil: 1", "API Key contains a line break"),
        ("clé-secrète", "API Key contains a non-ASCII character at position 3"),
        (" padded-key ", "API Key starts or ends with spaces"),
    ],
)
@responses.activate
def test_header_bound_values_are_validated_with_the_field_named(value, message):
    client = make_client("picqer", secrets={"api_key": value})
    s, _ = session(client)
    with pytest.raises(CredentialsError) as caught:
        s.call("GET /users/me")
    assert message in str(caught.value)
    assert value.strip() not in str(caught.value)
    assert len(responses.calls) == 0  # nothing was sent


@responses.activate
def test_a_missing_credential_names_the_field():
    client = make_client("connectwise", settings={"public_key": ""})
    s, _ = session(client)
    with pytest.raises(CredentialsError, match="Public Key is not set"):
        s.call("GET /system/info")
    client.refresh_from_db()
    assert "Public Key is not set" in client.last_error


@responses.activate
def test_timely_without_a_token_asks_to_grant_access():
    client = make_client("timely")
    client.tokens = {}
    client.save(update_fields=["tokens"])  # tokens are only written by name
    s, _ = session(client)
    with pytest.raises(CredentialsError, match="Grant access to Timely"):
        s.call("GET /1.1/accounts")


@responses.activate
def test_oauth_401_refreshes_once_and_retries_once(monkeypatch):
    calls = []

    def fake_access_token(client, force_refresh=False, **context):
        calls.append(force_refresh)
        return "fresh-token-Yz90" if force_refresh else "stale-token-Ab01"

    monkeypatch.setattr(oauth, "access_token", fake_access_token)
    url = BASES["timely"] + "/1.1/accounts"
    responses.add(responses.GET, url, status=401, json={"errors": {"message": "Unauthorized"}})
    responses.add(responses.GET, url, json=[{"id": 1}])
    s, _ = session(make_client("timely"))
    assert s.call("GET /1.1/accounts").data == [{"id": 1}]
    assert [c.request.headers["Authorization"] for c in responses.calls] == [
        "Bearer stale-token-Ab01",
        "Bearer fresh-token-Yz90",
    ]
    assert True in calls
    assert calls == [False, True]  # refreshed once, forced only after the 401
    # The failed first exchange is logged, without the token.
    log = RequestLog.objects.get(status=401)
    assert "stale-token-Ab01" not in str(log.request_headers)


@responses.activate
def test_oauth_second_401_is_a_client_error_not_a_loop(monkeypatch):
    monkeypatch.setattr(oauth, "access_token", lambda client, force_refresh=False, **context: "tok-still-bad")
    responses.add(responses.GET, BASES["timely"] + "/1.1/accounts", status=401, json={"errors": {}})
    s, _ = session(make_client("timely"))
    with pytest.raises(ClientError) as caught:
        s.call("GET /1.1/accounts")
    assert caught.value.status == 401
    assert "credentials" in str(caught.value)
    assert len(responses.calls) == 2


@responses.activate
def test_needs_grant_from_refresh_is_surfaced_clearly(monkeypatch):
    def needs_grant(client, force_refresh=False, **context):
        if force_refresh:
            raise oauth.NeedsGrant("invalid_grant")
        return "old-token-Cd23"

    monkeypatch.setattr(oauth, "access_token", needs_grant)
    responses.add(responses.GET, BASES["copper"] + "/account", status=401, json={})
    s, _ = session(make_client("copper_oauth"))
    with pytest.raises(AccessNotGranted) as caught:
        s.call("GET /account")
    assert "Grant access to Copper" in str(caught.value)
    assert isinstance(caught.value, oauth.NeedsGrant)


def test_api_keys_are_not_requested_again_per_request(monkeypatch):
    """Static credentials are computed once per session (a cheap, stable header)."""
    from clients import auth

    client = make_client("picqer")
    s, _ = session(client)
    counted = []
    original = auth.auth_headers
    monkeypatch.setattr(auth, "auth_headers", lambda creds: counted.append(1) or original(creds))
    with responses.RequestsMock() as mocked:
        mocked.add(responses.GET, BASES["picqer"] + "/users/me", json={})
        s.call("GET /users/me")
        s.call("GET /users/me")
    assert counted == [1]

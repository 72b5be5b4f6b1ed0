"""No secret of any kind in request logs, exception texts or on_exchange records (unit, `responses`)."""
import base64
import json

import pytest
import responses

from clients import redaction
from clients.http import PlatformError
from clients.models import RequestLog

from .helpers import BASES, CW_CLIENT_ID, make_client, session

pytestmark = pytest.mark.django_db

# (client kind, entity, path params, the URL it reaches)
CASES = [
    ("picqer", "GET /users/me", {}, BASES["picqer"] + "/users/me"),
    ("pipedrive", "GET /v1/users/me", {}, BASES["pipedrive"] + "/v1/users/me"),
    ("pipedrive_oauth", "GET /v1/users/me", {}, BASES["pipedrive"] + "/v1/users/me"),
    ("connectwise", "GET /system/info", {}, BASES["connectwise"] + "/system/info"),
    ("timely", "GET /1.1/accounts", {}, BASES["timely"] + "/1.1/accounts"),
    ("copper", "GET /account", {}, BASES["copper"] + "/account"),
    ("copper_oauth", "GET /account", {}, BASES["copper"] + "/account"),
]


def secret_forms(client):
    """Every secret value of a client, plus the base64 forms a Basic header carries."""
    values = set(client.secret_values())
    s = client.secrets
    if client.platform == "picqer":
        values.add(base64.b64encode(f"{s['api_key']}:".encode()).decode())
    if client.platform == "connectwise":
        values.add(base64.b64encode(f"acme+{client.settings['public_key']}:{s['private_key']}".encode()).decode())
    return values


ECHOED: list[str] = []


def echo(request):
    """A platform that echoes everything it got back into an error page."""
    body = json.dumps({"headers": dict(request.headers), "url": request.url})
    ECHOED.append(body)
    return 500, {"X-Echo-Auth": request.headers.get("Authorization", "-")}, body


def dump(log):
    return json.dumps(
        [log.url, log.request_headers, log.request_body, log.response_headers, log.response_body, log.error]
    )


@pytest.mark.parametrize(("kind", "entity", "path", "url"), CASES)
@responses.activate
def test_no_secret_in_request_logs_exceptions_or_exchanges(kind, entity, path, url):
    client = make_client(kind, log_requests=True)
    responses.add_callback(responses.GET, url, callback=echo)
    exchanges = []
    s, _ = session(client, max_retries=0, on_exchange=exchanges.append)
    with pytest.raises(PlatformError) as caught:
        s.call(entity, path=path)
    secrets = secret_forms(client)
    assert secrets, "the case must have secrets to look for"
    # The echo really contained them, so the redaction below is doing the work.
    raw = ECHOED.pop()
    assert any(secret in raw for secret in secrets)

    log = RequestLog.objects.get(client=client)
    text = dump(log) + str(caught.value) + caught.value.body + json.dumps(exchanges)
    for secret in secrets:
        assert secret not in text, f"{kind}: a secret leaked"
    assert redaction.REDACTED in text
    client.refresh_from_db()
    for secret in secrets:
        assert secret not in client.last_error


@responses.activate
def test_secrets_in_query_strings_and_bodies_are_redacted():
    """Legacy Pipedrive api_token in the query, a secret typed into a payload."""
    client = make_client("pipedrive", log_requests=True)
    url = BASES["pipedrive"] + "/v1/notes"
    responses.add(responses.POST, url, status=201, json={"success": True, "data": {"id": 1}})
    s, _ = session(client)
    token = client.secrets["api_token"]
    s.call("POST /v1/notes", query={"api_token": token, "client_secret": "xyz-secret-99"},
           payload={"content": f"my token is {token}"})
    log = RequestLog.objects.get()
    assert token not in dump(log)
    assert "xyz-secret-99" not in log.url
    assert "api_token=%5Bredacted%5D" in log.url or "api_token=[redacted]" in log.url


def test_redact_headers_by_name():
    headers = {
        "Authorization": "Basic abc",
        "x-api-token": "t",
        "X-PW-AccessToken": "k",
        "X-PW-UserEmail": "a@b.c",
        "X-PW-Application": "developer_api",
        "X-PW-TOTAL": "775",
        "clientId": CW_CLIENT_ID,
        "Cookie": "s=1",
        "Content-Type": "application/json",
    }
    out = redaction.redact_headers(headers)
    assert out["Authorization"] == out["x-api-token"] == out["X-PW-AccessToken"] == redaction.REDACTED
    assert out["Cookie"] == redaction.REDACTED
    # Identifiers, not credentials: ConnectWise's clientId names the integration, Copper's
    # X-PW-Application is always developer_api and X-PW-UserEmail says whose key it is.
    assert out["clientId"] == CW_CLIENT_ID
    assert out["X-PW-UserEmail"] == "a@b.c" and out["X-PW-Application"] == "developer_api"
    assert out["X-PW-TOTAL"] == "775"
    assert out["Content-Type"] == "application/json"


def test_redact_url_user_info_and_query_names_and_values():
    url = "https://user:pw@x.test/a/sekrit-value-1?api_token=t1&access_token=t2&code=c&q=sekrit-value-1&page=2"
    out = redaction.redact_url(url, ["sekrit-value-1"])
    for leaked in ("user:pw", "t1", "t2", "sekrit-value-1", "code=c"):
        assert leaked not in out
    assert "page=2" in out


def test_redact_text_catches_percent_encoded_secrets_and_ignores_tiny_values():
    assert redaction.redact_text("x=a%20b%2Bc%2Fd", ["a b+c/d"]) == "x=[redacted]"
    assert redaction.redact_text("value 123", ["123"]) == "value 123"  # too short to be a key


def test_logging_filter_hides_bearer_and_basic():
    import logging

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent Authorization: Bearer %s", ("abcdef123456",), None)
    redaction.RedactingFilter().filter(record)
    assert "abcdef123456" not in record.getMessage()


def test_redact_body_blanks_token_fields_in_forms_and_json_and_secrets_by_value():
    from clients.redaction import redact_body, secret_fields

    form = "grant_type=authorization_code&code=c0de-Xy12&code_verifier=v3rifier-Ab&client_secret=s3cret&client_id=app"
    assert redact_body(form) == (
        "grant_type=authorization_code&code=[redacted]&code_verifier=[redacted]&client_secret=[redacted]&client_id=app"
    )
    answer = '{"access_token": "at-Zz9", "refresh_token": "rt-Yy8", "id_token": "it-Xx7", "expires_in": 3600}'
    assert secret_fields(json.loads(answer)) == ["at-Zz9", "rt-Yy8", "it-Xx7"]
    assert json.loads(redact_body(answer)) == {
        "access_token": "[redacted]", "refresh_token": "[redacted]", "id_token": "[redacted]", "expires_in": 3600
    }
    assert redact_body("<html>echo rt-Yy8-long</html>", ["rt-Yy8-long"]) == "<html>echo [redacted]</html>"


def test_an_id_token_is_a_credential_name_everywhere_not_only_in_bodies():
    """OpenID's id_token is blanked by name in form bodies, URLs and headers alike."""
    assert redaction.redact_body("id_token=eyJ.a.b&state=s") == "id_token=[redacted]&state=s"
    assert "eyJ" not in redaction.redact_url("https://x.test/cb?id_token=eyJ.a.b&state=s")
    assert redaction.redact_headers({"id_token": "eyJ.a.b"})["id_token"] == "[redacted]"

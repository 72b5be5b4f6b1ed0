"""429 waits, 5xx and connection retries, and bad bodies (unit, `responses`, no real sleeping)."""
import email.utils
import time

import pytest
import requests
import responses

from clients.http import ConnectionFailed, InvalidResponse, RateLimited, ServerError
from clients.models import RequestLog
from clients.rate_limits import parse_retry_after, seconds_until_next_utc_day

from .helpers import BASES, make_client, session

pytestmark = pytest.mark.django_db

CUSTOMERS = BASES["picqer"] + "/customers"
ME = BASES["picqer"] + "/users/me"


@responses.activate
def test_429_with_retry_after_seconds_waits_that_long_then_succeeds():
    responses.add(responses.GET, ME, status=429, headers={"Retry-After": "7"}, json={"error": True})
    responses.add(responses.GET, ME, json={"iduser": 1})
    s, sleeps = session(make_client("picqer"))
    assert s.call("GET /users/me").data == {"iduser": 1}
    assert sleeps == [7.0]


@responses.activate
def test_429_with_retry_after_http_date():
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    responses.add(responses.GET, ME, status=429, headers={"Retry-After": when})
    responses.add(responses.GET, ME, json={})
    s, sleeps = session(make_client("picqer"))
    s.call("GET /users/me")
    assert 25 <= sleeps[0] <= 31


@responses.activate
def test_429_without_retry_after_uses_the_platform_default_with_backoff_and_jitter():
    responses.add(responses.GET, ME, status=429)
    responses.add(responses.GET, ME, status=429)
    responses.add(responses.GET, ME, json={})
    s, sleeps = session(make_client("picqer"), max_rate_limit_wait=1000)
    s.call("GET /users/me")
    # Picqer's documented client waits 20 s; the second wait doubles, each with up to 25 % jitter.
    assert 20 <= sleeps[0] <= 25
    assert 40 <= sleeps[1] <= 50


@responses.activate
def test_429_uses_the_platform_reset_header_when_there_is_no_retry_after():
    url = BASES["pipedrive"] + "/v1/users/me"
    responses.add(responses.GET, url, status=429, headers={"x-ratelimit-reset": "2"})
    responses.add(responses.GET, url, json={"success": True, "data": {}})
    s, sleeps = session(make_client("pipedrive"))
    s.call("GET /v1/users/me")
    assert sleeps == [2.0]


@responses.activate
def test_pipedrive_429_with_the_daily_budget_spent_waits_for_the_next_utc_day_not_the_window():
    url = BASES["pipedrive"] + "/v1/users/me"
    headers = {"x-ratelimit-reset": "2", "x-daily-ratelimit-token-remaining": "0"}
    responses.add(responses.GET, url, status=429, headers=headers)
    s, sleeps = session(make_client("pipedrive"))
    before = seconds_until_next_utc_day()
    with pytest.raises(RateLimited) as caught:
        s.call("GET /v1/users/me")
    assert sleeps == [] and len(responses.calls) == 1  # no point in waiting out the 2-second window
    assert before + 55 <= caught.value.retry_after <= before + 60  # a minute past midnight UTC
    message = str(caught.value)
    assert "daily API budget for this account is used up" in message and "next UTC day" in message
    assert " min." in message and "seconds" not in message  # "Try again in 7 h 12 min."


@responses.activate
def test_pipedrive_429_with_budget_left_is_the_short_window():
    url = BASES["pipedrive"] + "/v1/users/me"
    responses.add(responses.GET, url, status=429,
                  headers={"x-ratelimit-reset": "2", "x-daily-ratelimit-token-remaining": "1200"})
    responses.add(responses.GET, url, json={"success": True, "data": {}})
    s, sleeps = session(make_client("pipedrive"))
    s.call("GET /v1/users/me")
    assert sleeps == [2.0]


@pytest.mark.parametrize(("now", "expected"), [
    ("2026-11-23T23:59:30+00:00", 30.0),
    ("2026-11-23T00:00:00+00:00", 86400.0),
    ("2026-12-31T12:00:00+00:00", 43200.0),
    ("2026-11-24T01:00:00+02:00", 3600.0),  # 23:00 UTC the day before
])
def test_seconds_until_next_utc_day(now, expected):
    from datetime import datetime

    assert seconds_until_next_utc_day(datetime.fromisoformat(now)) == expected


@responses.activate
def test_429_raises_at_once_when_the_engine_parks_the_task():
    responses.add(responses.GET, ME, status=429, headers={"Retry-After": "42"})
    s, sleeps = session(make_client("picqer"), wait_on_rate_limit=False)
    with pytest.raises(RateLimited) as caught:
        s.call("GET /users/me")
    assert caught.value.retry_after == 42
    assert caught.value.status == 429
    assert "Try again in 42 seconds" in str(caught.value)
    assert sleeps == []
    assert len(responses.calls) == 1


@responses.activate
def test_429_waits_are_bounded_in_count():
    responses.add(responses.GET, ME, status=429, headers={"Retry-After": "1"})
    s, sleeps = session(make_client("picqer"), max_rate_limit_retries=3)
    with pytest.raises(RateLimited, match="still after 3 waits"):
        s.call("GET /users/me")
    assert sleeps == [1.0, 1.0, 1.0]
    assert len(responses.calls) == 4


@responses.activate
def test_429_waits_are_bounded_in_total_time():
    responses.add(responses.GET, ME, status=429, headers={"Retry-After": "50"})
    s, sleeps = session(make_client("picqer"), max_rate_limit_wait=120)
    with pytest.raises(RateLimited) as caught:
        s.call("GET /users/me")
    assert sleeps == [50.0, 50.0]  # a third wait would pass 120 s
    assert caught.value.retry_after == 50


@responses.activate
def test_429_on_a_post_is_retried_because_it_was_not_processed():
    url = BASES["picqer"] + "/customers"
    responses.add(responses.POST, url, status=429, headers={"Retry-After": "1"})
    responses.add(responses.POST, url, status=201, json={"idcustomer": 5})
    s, _ = session(make_client("picqer"))
    assert s.call("POST /customers", payload={"name": "Acme"}).status == 201
    assert len(responses.calls) == 2


@responses.activate
def test_5xx_on_a_get_is_retried_with_backoff():
    responses.add(responses.GET, ME, status=502)
    responses.add(responses.GET, ME, status=503)
    responses.add(responses.GET, ME, json={"ok": 1})
    s, sleeps = session(make_client("picqer"), backoff=0.5)
    assert s.call("GET /users/me").data == {"ok": 1}
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0


@responses.activate
def test_5xx_retries_are_bounded():
    responses.add(responses.GET, ME, status=500, json={"error": True, "error_message": "boom"})
    s, sleeps = session(make_client("picqer"), max_retries=2)
    with pytest.raises(ServerError) as caught:
        s.call("GET /users/me")
    assert len(responses.calls) == 3
    assert caught.value.status == 500
    assert "after 3 attempts" in str(caught.value)
    assert "boom" in caught.value.body


@responses.activate
def test_post_is_not_retried_on_5xx():
    url = BASES["picqer"] + "/customers"
    responses.add(responses.POST, url, status=500)
    s, sleeps = session(make_client("picqer"))
    with pytest.raises(ServerError, match="was sent once: the platform may have applied it"):
        s.call("POST /customers", payload={"name": "Acme"})
    assert len(responses.calls) == 1
    assert sleeps == []


@responses.activate
def test_a_read_via_post_is_retried_on_5xx():
    url = BASES["copper"] + "/companies/search"
    responses.add(responses.POST, url, status=500)
    responses.add(responses.POST, url, json=[{"id": 1}])
    s, _ = session(make_client("copper"))
    pages = list(s.paginate("POST /companies/search"))
    assert pages[0].raw_count == 1
    assert len(responses.calls) == 2


@responses.activate
def test_connection_errors_are_retried_for_gets_then_reported():
    responses.add(responses.GET, ME, body=requests.ConnectionError("refused"))
    s, sleeps = session(make_client("picqer"), max_retries=2)
    with pytest.raises(ConnectionFailed) as caught:
        s.call("GET /users/me")
    assert len(responses.calls) == 3
    assert "could not reach Picqer after 3 attempts" in str(caught.value)
    assert caught.value.status is None
    # Every failed attempt is logged, with no status.
    assert RequestLog.objects.filter(status__isnull=True).count() == 3


@responses.activate
def test_connection_errors_on_a_post_are_not_retried():
    responses.add(responses.POST, CUSTOMERS, body=requests.ConnectionError("reset"))
    s, sleeps = session(make_client("picqer"))
    with pytest.raises(ConnectionFailed):
        s.call("POST /customers", payload={})
    assert len(responses.calls) == 1


@responses.activate
def test_non_json_body_is_an_invalid_response():
    responses.add(responses.GET, ME, body="<html>maintenance</html>", content_type="text/html")
    s, _ = session(make_client("picqer"))
    with pytest.raises(InvalidResponse) as caught:
        s.call("GET /users/me")
    assert "not JSON" in str(caught.value)
    assert "maintenance" in caught.value.body


@responses.activate
def test_oversized_body_is_cut_off(settings):
    settings.HTTP_MAX_RESPONSE_BYTES = 1000
    responses.add(responses.GET, ME, body=b"[" + b"1," * 5000 + b"1]", content_type="application/json")
    s, _ = session(make_client("picqer"))
    with pytest.raises(InvalidResponse, match="larger than 1000 bytes"):
        s.call("GET /users/me")
    assert RequestLog.objects.get().error.startswith("the response is larger")


@responses.activate
def test_empty_body_is_none():
    responses.add(responses.DELETE, BASES["picqer"] + "/tags/3", status=204)
    s, _ = session(make_client("picqer"))
    response = s.call("DELETE /tags/{idtag}", path={"idtag": 3})
    assert response.status == 204 and response.data is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), ("0", 0.0), ("1.5", 1.5), (None, None), ("", None), ("soon", None), ("-3", 0.0)],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_a_bad_url_is_not_retried():
    s, sleeps = session(make_client("picqer"))
    with pytest.raises(ConnectionFailed, match="the URL is not valid"):
        s.send("GET", "http://exa mple:99999/x")
    assert sleeps == []

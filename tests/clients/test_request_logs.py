"""Logs -> Request logs: filters by client, status class and date; the detail view."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.http import ClientSession
from clients.models import HttpClient, RequestLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def logs(db):
    a = HttpClient.objects.create(name="Alpha", identifier="alpha", platform="picqer")
    b = HttpClient.objects.create(name="Beta", identifier="beta", platform="picqer")
    now = timezone.now()
    rows = [
        (a, 200, "", now), (a, 404, "", now), (b, 503, "", now),
        (b, None, "connection refused", now), (a, 201, "", now - timedelta(days=3)),
    ]
    for i, (client, status, error, when) in enumerate(rows):
        RequestLog.objects.create(client=client, method="GET", url=f"https://x.test/r{i}", status=status,
                                  error=error, created_at=when)
    return a, b


def _urls(response) -> set[str]:
    return {log.url for log in response.context["page"].object_list}


def test_filters(signed_in, logs):
    url = reverse("clients:request_logs")
    assert len(_urls(signed_in.get(url))) == 5
    assert _urls(signed_in.get(url, {"client": "beta"})) == {"https://x.test/r2", "https://x.test/r3"}
    assert _urls(signed_in.get(url, {"status": "2xx"})) == {"https://x.test/r0", "https://x.test/r4"}
    assert _urls(signed_in.get(url, {"status": "4xx"})) == {"https://x.test/r1"}
    assert _urls(signed_in.get(url, {"status": "5xx"})) == {"https://x.test/r2"}
    assert _urls(signed_in.get(url, {"status": "errors"})) == {"https://x.test/r1", "https://x.test/r2",
                                                               "https://x.test/r3"}
    day = (timezone.localdate() - timedelta(days=3)).isoformat()
    assert _urls(signed_in.get(url, {"date": day})) == {"https://x.test/r4"}
    bad = signed_in.get(url, {"date": "yesterday"})
    assert len(_urls(bad)) == 5 and "not valid" in bad.content.decode()
    partial = signed_in.get(url, {"client": "alpha"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "r0" in partial and "r2" not in partial


def test_detail_shows_the_exchange(signed_in, fake_picqer):
    client = fake_picqer.make_client("logged", log_requests=True)
    with ClientSession(client) as session:
        session.call("GET /users/me")
    log = RequestLog.objects.get(client=client)
    page = signed_in.get(reverse("clients:request_log", args=[log.pk])).content.decode()
    assert log.url in page and "/users/me" in page and "[redacted]" in page
    assert fake_picqer.api_key not in page
    assert reverse("clients:detail", args=["logged"]) in page

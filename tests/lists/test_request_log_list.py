"""Logs -> Request logs pages by keyset ("Load older") on every filter."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import HttpClient, RequestLog


@pytest.fixture
def many_logs(db):
    client = HttpClient.objects.create(name="Alpha", identifier="alpha", platform="picqer")
    now = timezone.now()
    RequestLog.objects.bulk_create([
        RequestLog(client=client, method="GET", url=f"https://x.test/{i}", status=(500 if i % 3 == 0 else 200),
                   created_at=now - timedelta(seconds=i)) for i in range(130)])
    return client


@pytest.mark.parametrize("params", [{}, {"status": "errors"}, {"client": "alpha"}, {"status": "2xx"},
                                    {"date": "today"}])
def test_load_older_walks_every_matching_log_once(signed_in, many_logs, params):
    if params.get("date") == "today":
        params = {"date": timezone.localdate().isoformat()}
    url = reverse("clients:request_logs")
    seen, cursor = [], None
    for _ in range(10):
        response = signed_in.get(url, {**params, **({"before": cursor} if cursor else {})})
        seen += [log.pk for log in response.context["page"].object_list]
        cursor = response.context["page"].older
        if not cursor:
            break
    matching = RequestLog.objects.all()
    if params.get("status") == "errors":
        matching = matching.filter(status__gte=400)
    elif params.get("status") == "2xx":
        matching = matching.filter(status__lt=300)
    if "date" in params:
        # Run just after midnight, the older of these logs are yesterday's.
        matching = matching.filter(created_at__date=params["date"])
        expected = [log.pk for log in matching.order_by("-created_at", "-id")]
    else:
        expected = list(matching.order_by("-id").values_list("pk", flat=True))
    assert seen == expected

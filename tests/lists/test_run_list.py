"""Monitoring -> Runs pages by keyset (no COUNT of every run), and the Incoming list's last run comes from an index."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connections.models import Incoming, Run


def _runs(incoming, count: int, **fields) -> list[Run]:
    now = timezone.now()
    # Pairs share a created_at: the order (and the cursor) must fall back on the id.
    return Run.objects.bulk_create([Run(incoming=incoming, created_at=now - timedelta(minutes=i // 2), **fields)
                                    for i in range(count)])


def _walk(signed_in, params: dict) -> list[int]:
    url, seen = reverse("connections:run_list"), []
    for _ in range(20):
        response = signed_in.get(url, params)
        assert response.status_code == 200
        seen += [r.pk for r in response.context["runs"]]
        older = response.context["page"].older
        if not older:
            return seen
        assert "Load older" in response.content.decode()
        params = {**params, "before": older}
    raise AssertionError("Load older never ended")


def test_load_older_walks_every_run_once_newest_first(signed_in, route):
    other = Incoming.objects.create(name="Orders", identifier="orders-in", platform="picqer",
                                    entity="GET /orders", client=route.incoming.client)
    mine = _runs(route.incoming, 70, status=Run.Status.FINISHED) + _runs(route.incoming, 5, status=Run.Status.FAILED)
    _runs(other, 60, status=Run.Status.FINISHED)
    expected = list(Run.objects.filter(incoming=route.incoming).order_by("-created_at", "-id").values_list(
        "pk", flat=True))

    seen = _walk(signed_in, {"incoming": str(route.incoming.pk)})

    assert seen == expected and len(seen) == len(mine) == 75
    assert len(_walk(signed_in, {})) == 135
    failed = _walk(signed_in, {"status": "failed"})
    assert sorted(failed) == sorted(r.pk for r in mine if r.status == Run.Status.FAILED)


def test_the_first_page_has_no_newest_link_and_a_bad_cursor_starts_at_the_newest(signed_in, route):
    runs = _runs(route.incoming, 55)
    url = reverse("connections:run_list")
    first = signed_in.get(url)
    assert "Newest</a>" not in first.content.decode() and first.context["page"].older
    for cursor in ("not-a-cursor", "2026-13-01~1", "~"):
        response = signed_in.get(url, {"before": cursor})
        assert response.status_code == 200
        assert [r.pk for r in response.context["runs"]][0] == max(r.pk for r in runs[:2])
    older = signed_in.get(url, {"before": first.context["page"].older})
    assert "Newest</a>" in older.content.decode() and len(older.context["runs"]) == 5


@pytest.mark.django_db
def test_the_incoming_list_shows_each_incomings_last_run(signed_in, route):
    idle = Incoming.objects.create(name="Never ran", identifier="idle-in", platform="picqer", entity="GET /orders",
                                   client=route.incoming.client)
    runs = _runs(route.incoming, 12)
    rows = {row.pk: row for row in signed_in.get(reverse("connections:incoming_list")).context["rows"]}
    assert rows[route.incoming.pk].last_run == max(r.created_at for r in runs)
    assert rows[idle.pk].last_run is None

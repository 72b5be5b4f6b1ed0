"""Monitoring -> Tasks: each task names its record, is found by it, and the list pages by keyset."""
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from connections import engine
from connections.models import Task
from connections.records import describe
from tests.engine.conftest import build_pipeline
from tests.fakes.platforms import FakePicqer, FakePipedrive


def test_records_are_named_by_their_id_and_a_readable_label():
    assert describe({"idcustomer": 42, "name": "Acme BV"}, {}) == {"record_id": "42", "label": "Acme BV"}
    assert describe({"id": "d-7", "title": "Big  deal\n"}, {}) == {"record_id": "d-7", "label": "Big deal"}
    assert describe({"id": 3, "first_name": "Ada", "last_name": "Lovelace"}, {})["label"] == "Ada Lovelace"
    assert describe({"idorder": 9, "orderid": "O2024-0042"}, {})["label"] == "O2024-0042"
    # Nothing in the source: what the route's transformers built
    assert describe({"value": 5}, {"payload": {"name": "Built"}}) == {"record_id": "", "label": "Built"}
    assert describe("text", "text") == {"record_id": "", "label": ""}
    assert len(describe({"id": "x" * 500, "name": "y" * 500}, {})["label"]) == 200


def test_a_run_names_each_task_and_the_list_shows_and_finds_it(signed_in, db):
    with FakePicqer(records=30) as source, FakePipedrive() as destination:
        pipeline = build_pipeline(source, destination)
        engine.execute_run(engine.start_run(pipeline.incoming).pk)
    task = Task.objects.get(record_id="7")
    assert task.label == "Record 7"

    page = signed_in.get(reverse("connections:task_list")).content.decode()
    assert "Record 7" in page and "id 7" in page

    found = signed_in.get(reverse("connections:task_list"), {"q": "7"}).context["tasks"]
    assert [t.pk for t in found] == [task.pk]  # the record id, exactly (not 17 or 27)
    found = signed_in.get(reverse("connections:task_list"), {"q": "record 2"}).context["tasks"]
    assert sorted(t.record_id for t in found) == ["2"] + [str(n) for n in range(20, 30)]  # label prefix, any case
    assert signed_in.get(reverse("connections:task_list"), {"q": "ecord"}).context["tasks"] == []


def _add(route, count: int, **fields) -> list[Task]:
    now = timezone.now()
    return Task.objects.bulk_create([
        Task(route=route, dedupe_key=f"k{i}-{fields}", data={}, created_at=now - timedelta(seconds=i), **fields)
        for i in range(count)])


def test_load_older_walks_every_task_once_newest_first(signed_in, route):
    _add(route, 120)
    url = reverse("connections:task_list")
    seen, params = [], {"route": str(route.pk)}
    for _ in range(10):
        response = signed_in.get(url, params)
        seen += [t.pk for t in response.context["tasks"]]
        older = response.context["page"].older
        if not older:
            break
        assert "Load older" in response.content.decode()
        params = {"route": str(route.pk), "before": older}
    assert seen == sorted(Task.objects.values_list("pk", flat=True), reverse=True)
    assert response.context["total"] == 120  # from the kept counts, not a COUNT


def test_load_older_with_a_day_filter_follows_creation_time(signed_in, route):
    tasks = _add(route, 60)
    day = timezone.localdate()
    expected = [t.pk for t in sorted(tasks, key=lambda t: (t.created_at, t.pk), reverse=True)
                if timezone.localdate(t.created_at) == day]
    url = reverse("connections:task_list")
    seen, params = [], {"date": day.isoformat()}
    while True:
        response = signed_in.get(url, params)
        seen += [t.pk for t in response.context["tasks"]]
        if not response.context["page"].older:
            break
        params = {"date": day.isoformat(), "before": response.context["page"].older}
    assert seen == expected
    assert response.context["total"] is None  # a day filter has no kept count


def test_a_cursor_that_is_not_ours_starts_at_the_newest(signed_in, route):
    _add(route, 3)
    response = signed_in.get(reverse("connections:task_list"), {"before": "'; drop table"})
    assert response.status_code == 200 and len(response.context["tasks"]) == 3


def test_totals_come_from_the_kept_counts_for_route_and_status_filters(signed_in, route):
    _add(route, 5)
    _add(route, 2, status=Task.Status.FAILED)
    url = reverse("connections:task_list")
    assert signed_in.get(url).context["total"] == 7
    assert signed_in.get(url, {"status": "failed"}).context["total"] == 2
    assert signed_in.get(url, {"route": str(route.pk), "status": "new"}).context["total"] == 5
    assert signed_in.get(url, {"q": "x"}).context["total"] is None
    assert re.search(r"7\s+tasks", signed_in.get(url).content.decode())

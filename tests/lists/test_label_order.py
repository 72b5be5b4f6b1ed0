"""A search too broad to list newest first shows its label matches in label order, a page at a time.

Here the newest-first read is not cheap (connections.task_search.newest_first_page): none of the
newest task ids (a window of one) matches, and there are more matches than the sort cap (one). The
label-ordered pages must hold every match once, in order, with the notice, on either database.
"""
import pytest
from django.urls import reverse

from connections import task_search
from connections.models import Task
from connections.views import tasks as view

LABELS = ["O2025-0003", "o2025-0001", "O2025-0002", "O2025-0002", "O2025-0010", "O2024-9999", "Acme"]


@pytest.fixture
def newest_first_gives_up(monkeypatch, settings):
    settings.TASK_SEARCH_PROBE_WINDOW = 1  # the newest task only: "Acme", last of LABELS
    settings.TASK_SEARCH_SORT_CAP = 1
    monkeypatch.setattr(view, "PAGE_SIZE", 2)


def _make(route) -> list[Task]:
    return [Task.objects.create(route=route, dedupe_key=str(i), data={}, label=label, record_id=f"r{i}")
            for i, label in enumerate(LABELS)]


def test_the_matches_are_listed_in_label_order_with_the_notice_and_next_pages(signed_in, route,
                                                                              newest_first_gives_up):
    made = _make(route)
    url = reverse("connections:task_list")
    response = signed_in.get(url, {"q": "o2025", "route": str(route.pk)})
    page = response.content.decode()
    assert response.context["in_label_order"] and not response.context["too_broad"]
    assert "in label order (A to Z)" in page and "Too many older tasks" not in page
    seen, pages = [], 0
    while True:
        pages += 1
        seen += [t.pk for t in response.context["tasks"]]
        after = response.context["page"].older
        if not after:
            break
        assert ">Next</a>" in response.content.decode() and "Load older" not in response.content.decode()
        response = signed_in.get(url, {"q": "o2025", "route": str(route.pk), "after": after})
        assert response.context["in_label_order"] and not response.context["page"].is_first
    # Case-blind, ties by id; every match once, none of the others.
    expected = [made[1].pk, made[2].pk, made[3].pk, made[0].pk, made[4].pk]
    assert seen == expected and pages == 3


def test_a_next_page_in_label_order_keeps_the_other_filters(signed_in, route, newest_first_gives_up):
    made = _make(route)
    Task.objects.filter(pk=made[2].pk).update(status=Task.Status.FAILED)
    url = reverse("connections:task_list")
    first = signed_in.get(url, {"q": "O2025", "status": "new"})
    assert [t.pk for t in first.context["tasks"]] == [made[1].pk, made[3].pk]
    second = signed_in.get(url, {"q": "O2025", "status": "new", "after": first.context["page"].older})
    assert [t.pk for t in second.context["tasks"]] == [made[0].pk, made[4].pk]


def test_a_label_cursor_that_is_not_ours_starts_at_the_first_match(signed_in, route, newest_first_gives_up):
    made = _make(route)
    response = signed_in.get(reverse("connections:task_list"), {"q": "o2025", "after": "'; drop table"})
    assert response.status_code == 200 and [t.pk for t in response.context["tasks"]] == [made[1].pk, made[2].pk]


def test_the_label_order_page_matches_as_the_newest_first_search_does(route):
    """The same prefix semantics in both reads: any case, a LIKE wildcard taken literally."""
    for i, label in enumerate(["100%_off", "100 off", "ÉCLAIR 1", "éclair 2"]):
        Task.objects.create(route=route, dedupe_key=str(i), data={}, label=label)
    for text in ("100%", "100%_", "éclair", "ÉCL"):
        newest = {t.pk for t in Task.objects.filter(task_search.matching(text))}
        ordered = {t.pk for t in task_search.label_order_page(Task.objects.all(), text, "", 50).object_list}
        window = {t.pk for t in Task.objects.filter(task_search._window_match(text))}  # newest_first_page's
        assert ordered == newest == window and newest, text

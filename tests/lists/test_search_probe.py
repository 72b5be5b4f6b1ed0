"""Which way a Tasks search is listed, decided by cheap reads instead of a timed newest-first try.

connections.task_search.newest_first_page: newest first when the newest TASK_SEARCH_PROBE_WINDOW
ids hold a page of matches, or when the matches are fewer than TASK_SEARCH_SORT_CAP (read and
sorted); otherwise in label order at once. Small windows and caps stand in for 20,000 and 5,000.
"""
import pytest
from django.urls import reverse
from django.utils import timezone

from connections.models import Task
from connections.views import tasks as view


@pytest.fixture
def small(monkeypatch, settings):
    settings.TASK_SEARCH_PROBE_WINDOW = 3
    settings.TASK_SEARCH_SORT_CAP = 4
    monkeypatch.setattr(view, "PAGE_SIZE", 2)


@pytest.fixture
def newest_first_reads(monkeypatch):
    """The view's own newest-first read (unbounded on SQLite, up to TASK_SEARCH_NEWEST_FIRST_MS on
    PostgreSQL), counted: a search without a date must not need it."""
    calls = []
    real = view.keyset_page

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(view, "keyset_page", counted)
    return calls


def _make(route, labels: list[str], **fields) -> list[Task]:
    start = Task.objects.count()
    return [Task.objects.create(route=route, dedupe_key=f"d{start + i}", data={}, label=label,
                                record_id=fields.get("record_id", f"r{start + i}"))
            for i, label in enumerate(labels)]


def _pages(client, params: dict) -> list[tuple[list[int], bool]]:
    """Every page of a search, following its links: (ids, in label order) per page."""
    url, pages, extra = reverse("connections:task_list"), [], {}
    while True:
        response = client.get(url, {**params, **extra})
        assert response.status_code == 200 and not response.context["too_broad"]
        page = response.context["page"]
        pages.append(([t.pk for t in response.context["tasks"]], response.context["in_label_order"]))
        if not page.older:
            return pages
        extra = {"after" if response.context["in_label_order"] else "before": page.older}


def test_many_old_matches_are_listed_in_label_order_without_a_newest_first_try(signed_in, route, small,
                                                                             newest_first_reads):
    old = _make(route, ["O2025-3", "O2025-1", "O2025-2", "O2025-5", "O2025-4"])
    _make(route, ["Acme"] * 4)  # newer than every match: the window holds none
    pages = _pages(signed_in, {"q": "o2025"})
    assert all(in_label_order for _, in_label_order in pages)
    assert [pk for ids, _ in pages for pk in ids] == [old[1].pk, old[2].pk, old[0].pk, old[4].pk, old[3].pk]
    assert newest_first_reads == []


def test_matches_among_the_newest_tasks_are_listed_newest_first_page_by_page(signed_in, route, small,
                                                                           newest_first_reads):
    _make(route, ["O2025-old"] * 6)  # more than the cap: only the window can list these newest first
    recent = _make(route, ["Acme", "O2025-a", "o2025-b", "O2025-c", "O2025-d"])
    first = signed_in.get(reverse("connections:task_list"), {"q": "O2025"})
    assert not first.context["in_label_order"] and first.context["page"].is_first
    assert [t.pk for t in first.context["tasks"]] == [recent[4].pk, recent[3].pk]
    assert "in label order" not in first.content.decode() and "Load older" in first.content.decode()
    second = signed_in.get(reverse("connections:task_list"), {"q": "O2025", "before": first.context["page"].older})
    assert [t.pk for t in second.context["tasks"]] == [recent[2].pk, recent[1].pk]
    assert not second.context["in_label_order"] and not second.context["page"].is_first
    assert newest_first_reads == []


def test_few_old_matches_are_read_and_sorted_newest_first_with_the_record_id_and_filters(signed_in, route, small,
                                                                                       newest_first_reads):
    labelled = _make(route, ["O2025-1", "O2025-2", "O2025-3"])
    by_record = _make(route, ["Acme order"], record_id="O2025")[0]  # the record id, not the label, matches
    _make(route, ["Zed"] * 5)  # newer: the window holds no match
    Task.objects.filter(pk=labelled[1].pk).update(status=Task.Status.FAILED)
    pages = _pages(signed_in, {"q": "O2025"})
    assert pages == [([by_record.pk, labelled[2].pk], False), ([labelled[1].pk, labelled[0].pk], False)]
    assert _pages(signed_in, {"q": "O2025", "status": "new"}) == [([by_record.pk, labelled[2].pk], False),
                                                                 ([labelled[0].pk], False)]
    assert _pages(signed_in, {"q": "O2025", "status": "failed"}) == [([labelled[1].pk], False)]
    assert _pages(signed_in, {"q": "O2025", "route": str(route.pk + 1)}) == [([], False)]
    assert newest_first_reads == []


def test_a_search_of_every_task_below_the_window_is_exact(signed_in, route, small):
    """A window reaching the first id holds every match: its short page is the whole answer."""
    made = _make(route, ["O2025-1", "Acme", "O2025-2"])
    assert _pages(signed_in, {"q": "O2025"}) == [([made[2].pk, made[0].pk], False)]


def test_a_search_on_a_day_is_still_listed_newest_first(signed_in, route, small):
    made = _make(route, ["O2025-1", "O2025-2", "O2025-3", "Acme", "Acme"])
    day = timezone.localdate().isoformat()
    pages = _pages(signed_in, {"q": "O2025", "date": day})
    assert pages == [([made[2].pk, made[1].pk], False), ([made[0].pk], False)]

"""A Tasks search PostgreSQL cannot answer quickly is stopped at its budget and the list asks for more of the label."""
import pytest
from django.db import connection, transaction
from django.urls import reverse

from connections import task_search
from connections.models import Task


def _sleep(seconds: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [seconds])


def _timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


@pytest.fixture
def on_postgres(db):
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's")


def test_a_search_past_its_budget_is_stopped(on_postgres, settings):
    settings.TASK_SEARCH_TIMEOUT_MS = 200
    with pytest.raises(task_search.TooBroad):
        task_search.within_budget(lambda: _sleep(60))
    assert Task.objects.count() == 0  # the connection is usable afterwards


def test_the_budget_ends_with_the_search(on_postgres, settings):
    settings.TASK_SEARCH_TIMEOUT_MS = 1234
    with transaction.atomic():  # as in a request wrapped in one transaction
        before = _timeout()
        assert task_search.within_budget(lambda: _timeout()) == "1234ms"
        assert _timeout() == before


def test_other_errors_are_not_taken_for_a_stopped_search(on_postgres):
    def broken():
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM connections_task")

    from django.db import ProgrammingError

    with pytest.raises(ProgrammingError):
        task_search.within_budget(broken)


def test_a_search_on_a_day_stopped_newest_first_lists_its_labels_in_label_order(on_postgres, signed_in, settings,
                                                                               monkeypatch, route):
    """With a date the list is ordered by created_at, which the id-window probe cannot give
    (connections.task_search.newest_first_page): newest first is tried for TASK_SEARCH_NEWEST_FIRST_MS."""
    settings.TASK_SEARCH_NEWEST_FIRST_MS = 200
    Task.objects.create(route=route, dedupe_key="1", data={}, label="O2025-0001")
    from django.utils import timezone

    from connections.views import tasks as view

    search = {"q": "O2025", "date": timezone.localdate().isoformat()}

    real = view.keyset_page

    def slow(*args, **kwargs):
        _sleep(60)  # what a prefix shared by a million old labels costs newest first at ten million tasks
        return real(*args, **kwargs)

    monkeypatch.setattr(view, "keyset_page", slow)
    response = signed_in.get(reverse("connections:task_list"), search)
    assert response.status_code == 200
    assert [t.label for t in response.context["tasks"]] == ["O2025-0001"]
    assert response.context["in_label_order"] and "in label order (A to Z)" in response.content.decode()

    # The label-ordered read has the whole search's budget; past it too, the list asks for more of the label.
    settings.TASK_SEARCH_TIMEOUT_MS = 200
    monkeypatch.setattr(task_search, "label_order_page", lambda *a, **k: _sleep(60))
    stopped = signed_in.get(reverse("connections:task_list"), search)
    assert "Too many older tasks start with “O2025”" in stopped.content.decode() and not stopped.context["tasks"]

    monkeypatch.setattr(view, "keyset_page", real)
    found = signed_in.get(reverse("connections:task_list"), search)
    assert [t.label for t in found.context["tasks"]] == ["O2025-0001"]
    assert not found.context["too_broad"] and not found.context["in_label_order"]
    # Without a search there is no budget: other filters are index ranges (tests/lists/test_query_plans.py).
    monkeypatch.setattr(view, "keyset_page", lambda *a, **k: real(*a, **k))
    assert signed_in.get(reverse("connections:task_list"), {"status": "new"}).context["too_broad"] is False


def test_the_probes_of_a_search_have_its_budget(on_postgres, signed_in, settings, monkeypatch, route):
    settings.TASK_SEARCH_TIMEOUT_MS = 200
    monkeypatch.setattr(task_search, "newest_first_page", lambda *a, **k: _sleep(60))
    stopped = signed_in.get(reverse("connections:task_list"), {"q": "O2025"})
    assert stopped.context["too_broad"] and "Too many older tasks" in stopped.content.decode()

"""The admin's task, request log and run lists never read a whole table: every query on them is bounded."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import HttpClient, RequestLog
from connections.models import Run, Task


@pytest.fixture
def admin_client_signed_in(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456789")
    client.force_login(user)
    return client


@pytest.fixture
def rows(route):
    # More rows than a changelist page (50), so every list query is a paged one.
    runs = Run.objects.bulk_create([Run(incoming=route.incoming) for _ in range(60)])
    tasks = Task.objects.bulk_create([Task(route=route, run=runs[0], dedupe_key=f"k{i}", data={},
                                           record_id=f"c-{i}", label=f"Customer {i}") for i in range(60)])
    client = HttpClient.objects.get(identifier="shop")
    RequestLog.objects.bulk_create([RequestLog(client=client, task=tasks[i], method="POST", url="https://x.test/",
                                               status=200 if i % 2 else 503) for i in range(60)])
    return tasks


BIG = ("connections_task", "clients_requestlog", "connections_run")


def _unbounded(queries, single_page: bool) -> list[str]:
    """SELECTs on a big table without a LIMIT (a full COUNT, a DISTINCT for filter choices, ...).

    When the (capped) count says everything fits on one page, the admin loads that page without a
    LIMIT: that one is bounded by the count.
    """
    found = []
    for query in queries:
        sql = query["sql"]
        if single_page and "COUNT(" not in sql and "DISTINCT" not in sql and "ORDER BY" in sql:
            continue
        if sql.startswith("SELECT") and any(f'FROM "{t}"' in sql for t in BIG) and "LIMIT" not in sql:
            if re.search(r'WHERE "\w+"\."id" = ', sql) or re.search(r'"id" IN \(', sql):
                continue  # one row or a few by primary key
            found.append(sql)
    return found


@pytest.mark.parametrize("name, params, expect", [
    ("connections_task_changelist", {}, 60),
    ("connections_task_changelist", {"q": "customer 1"}, 11),
    ("connections_task_changelist", {"q": "c-17"}, 1),
    ("connections_task_changelist", {"status__exact": "new"}, 60),
    ("clients_requestlog_changelist", {}, 60),
    ("clients_requestlog_changelist", {"status_class": "errors"}, 30),
    ("clients_requestlog_changelist", {"method": "POST"}, 60),
    ("clients_requestlog_changelist", {"q": "abc"}, 0),
    ("clients_requestlog_changelist", {"q": "task 1"}, None),
    ("connections_run_changelist", {"trigger": "manual"}, 60),
])
def test_changelists_run_only_bounded_queries(admin_client_signed_in, rows, name, params, expect):
    url = reverse(f"admin:{name}")
    admin_client_signed_in.get(url)  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = admin_client_signed_in.get(url, params)
    assert response.status_code == 200
    if expect is not None:
        assert response.context["cl"].result_count == expect
    cl = response.context["cl"]
    assert _unbounded(queries.captured_queries, cl.result_count <= cl.list_per_page) == []
    # The capped count takes any COUNT_CAP matching rows: it neither sorts them nor all the matches.
    counts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(")]
    assert not [sql for sql in counts if re.search(r"ORDER BY [^()]*LIMIT \d+\) subquery$", sql)], counts


def test_request_log_search_finds_a_log_or_a_tasks_or_runs_logs_by_number(admin_client_signed_in, rows):
    url = reverse("admin:clients_requestlog_changelist")

    def found(q: str) -> list:
        return list(admin_client_signed_in.get(url, {"q": q}).context["cl"].result_list)

    assert [log.task_id for log in found(f"task {rows[3].pk}")] == [rows[3].pk]
    assert [log.task_id for log in found(f"task:{rows[4].pk}")] == [rows[4].pk]
    assert len(found(f"run {rows[0].run_id}")) == 0  # the logs carry no run
    log = RequestLog.objects.order_by("pk").first()
    assert [x.pk for x in found(str(log.pk))] == [log.pk]
    assert found("task") == [] and found("page 3") == [] and found("1 2 3") == []

"""Server-side time and query count of every busy page, on a database seeded by seed_scale.py.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale_bench .venv/bin/python benchmarks/bench_pages.py

Each page is requested through Django's test client in this process (middleware, view, template:
all the server does, without a network or a browser), a few times; the median is printed with the
number of SQL queries. The same run's baseline is what the pages did before they read kept counts
and indexes: the old queries are timed on the same data (a COUNT of every task by status, the
routes' per-status annotation, the Errors filter's offset page with its COUNT), beside the
figures issue 14 measured at 1,000,000 tasks.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alumio_lite.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

# Issue 14's figures at 1,000,000 tasks / 1,500,000 request logs (server-side median, ms): PostgreSQL, SQLite.
ISSUE_BASELINE = {
    "Dashboard": (508, 918), "Routes": (663, 1071), "Route detail (biggest)": (150, 275),
    "Tasks by route (biggest)": (52, 1036), "Request logs, errors": (524, 547),
    "Admin tasks": (630, 5632), "Admin tasks, search": (3209, 1823),
    "Admin request logs": (1169, 7547), "Admin request logs, search": (3492, 6523), "Admin runs": (226, 677),
}


def pages() -> list[tuple[str, str]]:
    from clients.models import HttpClient, RequestLog
    from connections.models import Route, Run, Task

    biggest = Route.objects.annotate(n=Count("id")).order_by("pk").first()
    from summaries.counts import task_counts

    counts = task_counts()
    biggest = max(counts, key=lambda r: sum(counts[r].values())) if counts else biggest.pk
    run = Run.objects.order_by("-pk").values_list("pk", flat=True).first()
    client = HttpClient.objects.order_by("pk").values_list("identifier", flat=True).first()
    some_task = Task.objects.order_by("-pk").values_list("record_id", "label", "pk").first() or ("", "", 0)
    some_log_task = RequestLog.objects.exclude(task=None).values_list("task_id", flat=True).first() or 1
    day = timezone.localdate() - timezone.timedelta(days=3)
    old_prefix, old_after = old_matches()
    listed = [
        ("Dashboard", "/"),
        ("Routes", "/connections/routes/"),
        ("Route detail (biggest)", f"/connections/routes/{biggest}/"),
        ("Tasks", "/tasks/"),
        ("Tasks by route (biggest)", f"/tasks/?route={biggest}"),
        ("Tasks by route and status", f"/tasks/?route={biggest}&status=failed"),
        ("Tasks of a run", f"/tasks/?run={run}"),
        ("Tasks on a day", f"/tasks/?date={day.isoformat()}"),
        ("Tasks, record id", f"/tasks/?q={some_task[0]}"),
        ("Tasks, label prefix", f"/tasks/?q={some_task[1][:12]}"),
        ("Tasks, next page (deep)", f"/tasks/?before={some_task[2] // 2}"),
        # A prefix a tenth of the labels share, none of them among the newest 80 %: every match is old.
        ("Tasks, label prefix, old matches", f"/tasks/?q={old_prefix}"),
    ]
    if old_after:  # the same search's second page, in label order (connections.task_search)
        listed.append(("Tasks, old matches, next page", f"/tasks/?q={old_prefix}&after={quote(old_after)}"))
    listed += [(f"Tasks, {label}", f"/tasks/?status={value}") for value, label in Task.Status.choices]
    listed += [
        ("Request logs", "/clients/logs/"),
        ("Request logs, client", f"/clients/logs/?client={client}"),
        ("Request logs, on a day", f"/clients/logs/?date={day.isoformat()}"),
    ]
    listed += [(f"Request logs, {c}", f"/clients/logs/?status={c}") for c in ("2xx", "3xx", "4xx", "5xx", "errors")]
    oldest_run = Run.objects.order_by("pk").values_list("pk", "incoming_id").first() or (0, 0)
    middle_run = Run.objects.filter(pk__gte=(run or 0) // 2).order_by("pk").first()
    older_runs = f"{middle_run.created_at.isoformat()}~{middle_run.pk}" if middle_run else ""
    some_log = RequestLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    listed += [
        ("Runs", "/runs/"),
        ("Runs, failed", "/runs/?status=failed"),
        ("Runs of an incoming", f"/runs/?incoming={oldest_run[1]}"),
        ("Runs, older page (deep)", f"/runs/?before={quote(older_runs)}"),
        ("Run detail", f"/runs/{run}/"),
        ("Task detail", f"/tasks/{some_log_task}/"),
        ("Request log detail", f"/clients/logs/{some_log}/"),
        ("Incoming list", "/connections/incoming/"),
    ]
    listed += [
        ("Admin tasks", "/admin/connections/task/"),
        ("Admin tasks, status", "/admin/connections/task/?status__exact=failed"),
        ("Admin tasks, search", f"/admin/connections/task/?q={some_task[1][:12]}"),
        ("Admin request logs", "/admin/clients/requestlog/"),
        ("Admin request logs, errors", "/admin/clients/requestlog/?status_class=errors"),
        ("Admin request logs, search", f"/admin/clients/requestlog/?q=task+{some_log_task}"),
        ("Admin runs", "/admin/connections/run/"),
    ]
    return [(name, url.replace(" ", "+")) for name, url in listed]


def old_matches() -> tuple[str, str]:
    """A label prefix whose matches are all old, and the cursor of its second page in label order.

    seed_scale labels task i "Customer i", so "Customer 1" matches 1,111,111 of 10M tasks, all among
    the oldest 20 %. At any size: the first digit of the label 15 % of the way through the ids (at 2M
    "Customer 2": 111,111 matches, all older than the newest 1.7M tasks)."""
    from connections import task_search
    from connections.models import Task

    ids = Task.objects.order_by("pk").values_list("pk", flat=True)
    first, last = ids.first() or 0, ids.last() or 0
    label = Task.objects.filter(pk__gte=first + (last - first) * 15 // 100).order_by("pk").values_list(
        "label", flat=True).first() or ""
    found = re.match(r"\D*\d", label)
    prefix = found.group(0) if found else "Customer 1"
    if not hasattr(task_search, "label_order_page"):  # a checkout from before the label-order fallback
        return prefix, ""
    return prefix, task_search.label_order_page(Task.objects.all(), prefix, "", 50).older


def measure(client: Client, url: str, repeat: int) -> tuple[float, float, int, int]:
    """Median time of the whole request and of its SQL alone (the part that grows with the data), ms."""
    times, sql, queries = [], [], 0
    for _ in range(repeat):
        reset_queries()
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        sql.append(sum(float(q["time"]) for q in connection.queries) * 1000)
        queries = len(connection.queries)
    return statistics.median(times), statistics.median(sql), queries, response.status_code


def old_queries(repeat: int) -> list[tuple[str, float]]:
    """The queries the pages ran before (kept counts, indexes, keyset), timed on the same data."""
    from clients.models import RequestLog
    from connections.models import Route, Task

    def timed(fn) -> float:
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            fn()
            runs.append((time.perf_counter() - started) * 1000)
        return statistics.median(runs)

    statuses = Task.Status.values
    errors = Q(status__gte=400) | Q(status__isnull=True) | ~Q(error="")
    return [
        ("Dashboard: COUNT of every task by status", timed(lambda: Task.objects.aggregate(
            **{s: Count("id", filter=Q(status=s)) for s in statuses}))),
        ("Routes: per-route status annotation", timed(lambda: list(Route.objects.annotate(
            **{f"t_{s}": Count("tasks", filter=Q(tasks__status=s)) for s in statuses})))),
        ("Request logs, errors: COUNT for the pager", timed(lambda: RequestLog.objects.filter(errors).count())),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", help="pages whose name contains this (e.g. Admin); no old-query baseline")
    args = parser.parse_args()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a database seeded by an older checkout
    settings.DEBUG = True  # so connection.queries counts the queries
    settings.ALLOWED_HOSTS = ["*"]
    from django.contrib.auth import get_user_model

    from connections.models import Task

    user, _ = get_user_model().objects.get_or_create(username="bench-pages", defaults={"is_staff": True,
                                                                                       "is_superuser": True})
    client = Client()
    client.force_login(user)
    vendor = connection.vendor
    column = 0 if vendor == "postgresql" else 1
    total = Task.objects.order_by().values_list("id", flat=True).last()
    print(f"bench_pages on {vendor}, ~{total or 0:,} task ids; median of {args.repeat}; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs", flush=True)
    print(f"{'page':<34} | {'median':>9} | {'of it SQL':>9} | {'queries':>7} | {'issue 14 at 1M':>14} | ratio")
    for name, url in pages():
        if args.only and args.only.lower() not in name.lower():
            continue
        client.get(url)  # warm caches, as a page a user opens again
        median, sql, queries, status = measure(client, url, args.repeat)
        before = ISSUE_BASELINE.get(name, (None, None))[column]
        ratio = f"{median / before:.3f}" if before else ""
        flag = "" if status == 200 else f"  HTTP {status}"
        then = f"{before} ms" if before else ""
        print(f"{name:<34} | {median:7.1f}ms | {sql:7.1f}ms | {queries:>7} | {then:>14} | {ratio}{flag}", flush=True)
    if args.only:
        print(f"load average at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        return
    print("\nsame run, the old queries on this data (minutes at 10M rows):")
    for name, median in old_queries(max(1, args.repeat // 2)):
        print(f"  {name:<44} {median:9.1f} ms", flush=True)
    print(f"load average at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

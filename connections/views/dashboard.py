"""The dashboard home: workers, task counts, recent failures, requests per hour, clients needing a grant,
and the rate budgets of the HTTP Clients in use."""
from __future__ import annotations

from datetime import UTC, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clients import rate_budget
from clients.models import HttpClient
from connections.models import Run, Task, WorkerHeartbeat
from summaries import counts as summaries


def requests_per_hour(now=None) -> list[dict]:
    """24 hourly buckets (oldest first) of request log counts, with bar heights in percent.

    From the hourly counts the database keeps (summaries), not from the request logs themselves.
    """
    now = now or timezone.now()
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=24)
    by_hour = summaries.requests_per_hour(start, end)
    top = max([total for total, _errors in by_hour.values()] or [0])
    buckets = []
    for i in range(24):
        hour = start + timedelta(hours=i)
        total, errors = by_hour.get(hour, (0, 0))
        height = round(100 * total / top) if top else 0
        # SVG coordinates of the bar: 24 bars of width 8 on a 240 x 100 canvas
        buckets.append({"hour": hour, "total": total, "errors": errors, "height": height,
                        "x": i * 10 + 1, "y": 100 - height})
    return buckets


def home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    day_ago = now - timedelta(hours=24)
    workers = WorkerHeartbeat.online().order_by("hostname")
    counts = summaries.status_totals()
    task_counts = [(status, label, counts.get(status, 0)) for status, label in Task.Status.choices]
    # Both from the (status, updated_at) index: one range of the failures of the last day.
    recent_failures = Task.objects.filter(status=Task.Status.FAILED, updated_at__gte=day_ago)
    failed_tasks = (recent_failures.select_related("route").defer("data", "response_body")
                    .order_by("-updated_at")[:10])
    failed_task_count = recent_failures.count()
    failed_runs = (Run.objects.filter(status=Run.Status.FAILED, created_at__gte=day_ago)
                   .select_related("incoming").order_by("-created_at")[:10])
    hours = requests_per_hour(now)
    # The shared rate budgets of the clients that called a platform in the last ten minutes (one read).
    active = list(HttpClient.objects.filter(last_used_at__gte=now - timedelta(minutes=10)).order_by("name")[:20])
    budgets = rate_budget.describe(active)
    context = {
        "workers": workers, "task_counts": task_counts, "failed_tasks": failed_tasks,
        "failed_task_count": failed_task_count, "failed_runs": failed_runs, "hours": hours,
        "requests_total": sum(h["total"] for h in hours), "errors_total": sum(h["errors"] for h in hours),
        "needs_grant": HttpClient.objects.filter(auth_state=HttpClient.AuthState.NEEDS_GRANT).order_by("name"),
        "budgets": [(client, budgets[client.pk]) for client in active],
    }
    return render(request, "dashboard.html", context)

"""The dashboard home: workers, task counts, recent failures, requests per hour, clients needing a grant."""
from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clients.models import HttpClient, RequestLog
from connections.models import Run, Task, WorkerHeartbeat


def requests_per_hour(now=None) -> list[dict]:
    """24 hourly buckets (oldest first) of request log counts, with bar heights in percent."""
    now = now or timezone.now()
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=24)
    rows = (RequestLog.objects.filter(created_at__gte=start, created_at__lt=end)
            .annotate(hour=TruncHour("created_at")).values("hour")
            .annotate(total=Count("id"), errors=Count("id", filter=Q(status__gte=400) | Q(status__isnull=True))))
    by_hour = {row["hour"]: row for row in rows}
    top = max([row["total"] for row in rows] or [0])
    buckets = []
    for i in range(24):
        hour = start + timedelta(hours=i)
        row = by_hour.get(hour, {"total": 0, "errors": 0})
        height = round(100 * row["total"] / top) if top else 0
        # SVG coordinates of the bar: 24 bars of width 8 on a 240 x 100 canvas
        buckets.append({"hour": hour, "total": row["total"], "errors": row["errors"], "height": height,
                        "x": i * 10 + 1, "y": 100 - height})
    return buckets


def home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    day_ago = now - timedelta(hours=24)
    workers = WorkerHeartbeat.online().order_by("hostname")
    counts = Task.objects.aggregate(**{status: Count("id", filter=Q(status=status)) for status in Task.Status.values})
    task_counts = [(status, label, counts[status]) for status, label in Task.Status.choices]
    failed_tasks = (Task.objects.filter(status=Task.Status.FAILED, updated_at__gte=day_ago)
                    .select_related("route").order_by("-updated_at")[:10])
    failed_task_count = Task.objects.filter(status=Task.Status.FAILED, updated_at__gte=day_ago).count()
    failed_runs = (Run.objects.filter(status=Run.Status.FAILED, created_at__gte=day_ago)
                   .select_related("incoming").order_by("-created_at")[:10])
    hours = requests_per_hour(now)
    context = {
        "workers": workers, "task_counts": task_counts, "failed_tasks": failed_tasks,
        "failed_task_count": failed_task_count, "failed_runs": failed_runs, "hours": hours,
        "requests_total": sum(h["total"] for h in hours), "errors_total": sum(h["errors"] for h in hours),
        "needs_grant": HttpClient.objects.filter(auth_state=HttpClient.AuthState.NEEDS_GRANT).order_by("name"),
    }
    return render(request, "dashboard.html", context)

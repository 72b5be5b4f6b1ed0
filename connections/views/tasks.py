"""Monitoring -> Tasks: filter by route, status, date and record (id or label); bulk retry and skip;
one task in detail."""
from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from alumio_lite.filters import filter_by_day, id_param, id_params, text_param
from alumio_lite.keyset import KeysetPage, keyset_page
from audit import events as audit
from summaries import counts as summaries

from .. import engine, files, json_policy, task_search
from .. import tasks as jobs
from ..models import Route, Task

PAGE_SIZE = 50


def filter_tasks(params, by_record: bool = True) -> tuple:
    """The tasks the list's filters select, and the filters as understood; without the record search
    (`q`) when not `by_record` (the label-ordered read applies its own)."""
    tasks = Task.objects.select_related("route").defer("data", "response_body")
    route = params.get("route", "")
    status = params.get("status", "")
    run = params.get("run", "")
    search = " ".join(text_param(params.get("q")).split())
    # An id that can name no row (“²”, 20 digits) matches nothing, rather than a 500 or everything.
    if route:
        tasks = tasks.filter(route_id=id_param(route)) if id_param(route) else tasks.none()
    if run:
        tasks = tasks.filter(run_id=id_param(run)) if id_param(run) else tasks.none()
    if status in Task.Status.values:
        tasks = tasks.filter(status=status)
    if search and by_record:
        tasks = tasks.filter(task_search.matching(search))
    tasks, day = filter_by_day(tasks, params.get("date", ""))
    filters = {"route": str(id_param(route) or ""), "run": str(id_param(run) or ""), "status": status, "q": search,
               **day}
    return tasks, filters


def total_of(filters: dict) -> int | None:
    """The number of tasks the filters select, when the kept counts know it without counting rows:
    all tasks, or a route's, or a status's, or both. None for other filters (run, date, search)."""
    if filters["run"] or filters["date"] or filters["q"]:
        return None
    route = int(filters["route"]) if filters["route"].isdigit() else None
    counts = summaries.task_counts([route] if route is not None else None)
    return sum(n for by_status in counts.values() for status, n in by_status.items()
               if not filters["status"] or status == filters["status"])


def task_list(request: HttpRequest) -> HttpResponse:
    tasks, filters = filter_tasks(request.GET)
    page, in_label_order, too_broad = _read_page(request, tasks, filters)
    query = request.GET.copy()
    query.pop("before", None)
    query.pop("after", None)
    context = {
        "page": page, "tasks": page.object_list, "filters": filters, "query": query.urlencode(),
        "in_label_order": in_label_order, "too_broad": too_broad,
        "total": total_of(filters),
        "routes": Route.objects.order_by("name").only("id", "name"), "statuses": Task.Status.choices,
    }
    if request.htmx:
        return render(request, "connections/_task_table.html", context)
    return render(request, "connections/task_list.html", context)


def _read_page(request: HttpRequest, tasks, filters: dict) -> tuple[KeysetPage, bool, bool]:
    """(page, in label order, too broad). A record search is listed newest first when that is cheap
    (task_search.newest_first_page), else its label matches in label order, at once. With a date filter
    (ordered by created_at) the newest-first read is tried for TASK_SEARCH_NEWEST_FIRST_MS instead.
    `after` continues the label order; the whole search is bounded by TASK_SEARCH_TIMEOUT_MS."""
    by_created = bool(filters["date"])
    cursor = request.GET.get("before", "")

    def newest_first() -> KeysetPage:
        return keyset_page(tasks, cursor, PAGE_SIZE, by_created=by_created)

    search = filters["q"]
    if not search:
        return newest_first(), False, False

    def label_order() -> KeysetPage:
        base, _ = filter_tasks(request.GET, by_record=False)
        return task_search.label_order_page(base, search, request.GET.get("after", ""), PAGE_SIZE)

    def cheapest() -> tuple[KeysetPage, bool]:
        """Newest first when that is cheap, else in label order: in one transaction with one budget."""
        if not request.GET.get("after"):
            base, _ = filter_tasks(request.GET, by_record=False)
            page = task_search.newest_first_page(base, search, cursor, PAGE_SIZE)
            if page is not None:
                return page, False
        return label_order(), True

    try:
        if by_created and not request.GET.get("after"):
            try:
                return task_search.within_budget(newest_first, settings.TASK_SEARCH_NEWEST_FIRST_MS), False, False
            except task_search.TooBroad:
                return task_search.within_budget(label_order), True, False
        return *task_search.within_budget(cheapest), False
    except task_search.TooBroad:
        return KeysetPage(object_list=[], older="", is_first=True), False, True


@require_POST
def task_bulk(request: HttpRequest) -> HttpResponse:
    """Retry or skip the ticked tasks."""
    ids = id_params(request.POST.getlist("task"))
    action = request.POST.get("action")
    back = reverse("connections:task_list") + (f"?{request.POST['query']}" if request.POST.get("query") else "")
    if not ids:
        messages.warning(request, "Tick the tasks to retry or skip first.")
        return redirect(back)
    if action in ("retry", "skip"):
        for route in Route.objects.filter(tasks__pk__in=ids).distinct():
            audit.record("Retry tasks" if action == "retry" else "Skip tasks", route,
                         tasks=sorted(route.tasks.filter(pk__in=ids).values_list("pk", flat=True))[:500])
    if action == "retry":
        count = engine.retry_tasks(ids)
        for route_id in Task.objects.filter(pk__in=ids, status=Task.Status.NEW).values_list(
                "route_id", flat=True).distinct():
            jobs.process_route.delay_on_commit(route_id)
        messages.success(request, ngettext("%d task queued again.", "%d tasks queued again.", count) % count)
    elif action == "skip":
        count = engine.skip_tasks(ids)
        messages.success(request, ngettext("%d task skipped.", "%d tasks skipped.", count) % count)
    else:
        messages.error(request, "Unknown action.")
    return redirect(back)


def task_logs(task: Task):
    """The task's request logs in the order they were sent: one range of requestlog_task_order."""
    return task.request_logs.order_by("created_at", "pk")


def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task.objects.select_related("route", "run", "route__outgoing"), pk=pk)
    logs = task_logs(task)
    response_json = None
    if task.response_body:
        try:
            response_json = json.dumps(json.loads(task.response_body), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):  # RecursionError: a platform's thousands of nested [
            response_json = None
    return render(request, "connections/task_detail.html", {
        "task": task, "logs": logs,
        "data_json": json_policy.for_display(files.for_display(task.data)),
        "data_files": [files.describe(f) for f in files.files_in(task.data)],
        "response_json": response_json,
    })


def task_file(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """A file the task's data carries (e.g. a download handed on as base64), as an attachment."""
    task = get_object_or_404(Task.objects.only("id", "data"), pk=pk)
    return files.download(task.data, index)


urlpatterns = [
    path("", task_list, name="task_list"),
    path("bulk/", task_bulk, name="task_bulk"),
    path("<int:pk>/", task_detail, name="task_detail"),
    path("<int:pk>/files/<int:index>/", task_file, name="task_file"),
]

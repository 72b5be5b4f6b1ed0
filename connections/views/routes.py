"""Connections -> Routes: list with task counts, create, edit, detail, "Run now", delete."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from audit import events as audit
from summaries import counts as summaries

from .. import deletion
from .. import tasks as jobs
from ..models import Route, Task
from ..route_forms import RouteForm

STATUSES = Task.Status.values


def task_counts(route: Route, counts: dict[int, dict[str, int]]) -> list[tuple[str, str, int]]:
    """(status, label, count) of a route, in Task.Status order, from the kept counts (summaries)."""
    by_status = counts.get(route.pk, {})
    return [(status, label, by_status.get(status, 0)) for status, label in Task.Status.choices]


def route_list(request: HttpRequest) -> HttpResponse:
    routes = list(Route.objects.select_related("incoming", "outgoing").order_by("name"))
    counts = summaries.task_counts([r.pk for r in routes])
    for route in routes:
        route.task_counts = task_counts(route, counts)
        route.task_total = sum(count for _, _, count in route.task_counts)
    return render(request, "connections/route_list.html", {"routes": routes, "statuses": Task.Status.choices})


def _form_page(request: HttpRequest, form: RouteForm, route: Route | None) -> HttpResponse:
    return render(request, "connections/route_form.html", {
        "form": form, "route": route, "transformers": form.all_transformers(),
        "transformer_label": "Route transformers",
        "transformer_errors": form.errors.get("transformers"),
    })


def route_create(request: HttpRequest) -> HttpResponse:
    form = RouteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        route = form.save()
        messages.success(request, f"Route “{route}” created.")
        return redirect(route)
    return _form_page(request, form, None)


def route_edit(request: HttpRequest, pk: int) -> HttpResponse:
    route = get_object_or_404(Route, pk=pk)
    if route.deletion_started_at:  # saving would enable it again half way through the deletion
        messages.error(request, f"Route “{route}” is being deleted.")
        return redirect("connections:route_list")
    form = RouteForm(request.POST or None, instance=route)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Route “{route}” saved.")
        return redirect(route)
    return _form_page(request, form, route)


def route_detail(request: HttpRequest, pk: int) -> HttpResponse:
    route = get_object_or_404(Route.objects.select_related("incoming", "outgoing"), pk=pk)
    counts = task_counts(route, summaries.task_counts([route.pk]))
    runs = route.incoming.runs.all()[:10]
    transformers = route.transformers_in_order()
    return render(request, "connections/route_detail.html", {
        "route": route, "counts": counts, "runs": runs, "transformers": transformers,
    })


@require_POST
def route_run(request: HttpRequest, pk: int) -> HttpResponse:
    """"Run now": run the route's incoming on a worker, then publish the route's tasks."""
    route = get_object_or_404(Route.objects.select_related("incoming"), pk=pk)
    if not route.enabled:
        messages.error(request, f"Route “{route}” is disabled; enable it to run it.")
        return redirect(route)
    if route.incoming.disabled:
        messages.error(request, f"Its incoming configuration “{route.incoming}” is disabled.")
        return redirect(route)
    run = jobs.start_route(route, trigger="manual")
    audit.record("Run now", route, run=run.pk)
    if route.realtime:
        messages.success(request, f"Run {run.pk} of “{route.incoming}” queued.")
    else:
        messages.success(request, f"Run {run.pk} of “{route.incoming}” queued; its tasks for “{route}” are "
                                  "published as soon as it ends, not at the route's schedule.")
    return redirect(run)


@require_POST
def route_process(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish the route's queued tasks now (what its scheduler would do)."""
    route = get_object_or_404(Route, pk=pk)
    jobs.start_processing(route.pk, on_commit=True)
    audit.record("Process queued tasks", route)
    messages.success(request, f"Processing of the queued tasks of “{route}” started.")
    return redirect(route)


@require_POST
def route_delete(request: HttpRequest, pk: int) -> HttpResponse:
    route = get_object_or_404(Route, pk=pk)
    name = str(route)
    if deletion.delete_now_or_later(route):
        messages.success(request, f"Route “{name}” and its tasks were deleted.")
    else:
        messages.success(request, f"Deleting route “{name}” and its tasks in the background; the list below "
                                  f"counts them down.")
    return redirect("connections:route_list")


urlpatterns = [
    path("", route_list, name="route_list"),
    path("new/", route_create, name="route_create"),
    path("<int:pk>/", route_detail, name="route_detail"),
    path("<int:pk>/edit/", route_edit, name="route_edit"),
    path("<int:pk>/run/", route_run, name="route_run"),
    path("<int:pk>/process/", route_process, name="route_process"),
    path("<int:pk>/delete/", route_delete, name="route_delete"),
]

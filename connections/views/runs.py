"""Monitoring -> Runs: every execution of an incoming configuration, live progress, cancel."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from alumio_lite.filters import id_param
from alumio_lite.keyset import keyset_page
from audit import events as audit

from .. import engine
from .. import tasks as jobs
from ..models import Incoming, Run, WorkerHeartbeat
from ..run_summary import unchanged_note

PAGE_SIZE = 50
ACTIVE = (Run.Status.QUEUED, Run.Status.RUNNING)


def run_list(request: HttpRequest) -> HttpResponse:
    runs = Run.objects.select_related("incoming")
    incoming = request.GET.get("incoming", "")
    status = request.GET.get("status", "")
    if incoming:
        # An id that can name no row (“²”, 20 digits) matches nothing rather than a 500.
        runs = runs.filter(incoming_id=id_param(incoming)) if id_param(incoming) else runs.none()
    if status in Run.Status.values:
        runs = runs.filter(status=status)
    # Newest first by (created_at, id), "Load older" below the last run shown: no COUNT of a million
    # runs per view, and the same cost at any depth (alumio_lite.keyset).
    page = keyset_page(runs, request.GET.get("before", ""), PAGE_SIZE, by_created=True)
    query = request.GET.copy()
    query.pop("before", None)
    query.pop("page", None)
    return render(request, "connections/run_list.html", {
        "page": page, "runs": page.object_list, "incomings": Incoming.objects.order_by("name"),
        "statuses": Run.Status.choices, "filters": {"incoming": incoming, "status": status},
        "query": query.urlencode(),
    })


def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # incoming__client: the progress part, polled every second, links to the client's request logs
    run = get_object_or_404(Run.objects.select_related("incoming__client"), pk=pk)
    routes = list(run.incoming.routes.all())
    context = {"run": run, "active": run.status in ACTIVE, "routes": routes,
               "unchanged_note": unchanged_note(run, len(routes)),
               # a queued run with no worker alive would wait forever: say so, and what to do
               "no_worker": run.status == Run.Status.QUEUED and not WorkerHeartbeat.online().exists()}
    if request.htmx:
        return render(request, "connections/_run_progress.html", context)
    return render(request, "connections/run_detail.html", context)


@require_POST
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(Run, pk=pk)
    if engine.cancel_run(run):
        messages.success(request, f"Run {run.pk}: cancel requested; it stops after the page it is reading.")
    else:
        messages.warning(request, f"Run {run.pk} is not running any more.")
    if request.htmx:
        return run_detail(request, pk)
    return redirect(run)


@require_POST
def run_start(request: HttpRequest, incoming_pk: int) -> HttpResponse:
    """"Run now" on an incoming configuration."""
    incoming = get_object_or_404(Incoming, pk=incoming_pk)
    if incoming.disabled:
        messages.error(request, f"“{incoming}” is disabled; enable it to run it.")
        return redirect("connections:run_list")
    run = jobs.start_run(incoming, trigger="manual")
    audit.record("Run now", incoming, run=run.pk)
    messages.success(request, f"Run {run.pk} of “{incoming}” queued.")
    return redirect(run)


urlpatterns = [
    path("", run_list, name="run_list"),
    path("<int:pk>/", run_detail, name="run_detail"),
    path("<int:pk>/cancel/", run_cancel, name="run_cancel"),
    path("start/<int:incoming_pk>/", run_start, name="run_start"),
]

"""Settings -> Schedulers: cron jobs that run incomings or process routes (Celery beat, from the database)."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST
from django_celery_beat.models import PeriodicTask

from .. import schedules
from ..models import Incoming, Route
from ..route_forms import SchedulerForm


def _rows() -> list[dict]:
    tasks = PeriodicTask.objects.select_related("crontab", "interval").order_by("name")
    incomings = dict(Incoming.objects.values_list("pk", "name"))
    routes = dict(Route.objects.values_list("pk", "name"))
    rows = []
    for task in tasks:
        if task.name == "celery.backend_cleanup":
            continue
        target = schedules.target_of(task)
        what = task.description
        if target and target.kind == "run_incoming":
            what = f"Run incoming “{incomings.get(target.target_id, f'#{target.target_id} (deleted)')}”"
        elif target:
            what = f"Process route “{routes.get(target.target_id, f'#{target.target_id} (deleted)')}”"
        when = schedules.cron_text(task.crontab) if task.crontab_id else (
            f"every {task.interval.every} {task.interval.period}" if task.interval_id else "")
        rows.append({"task": task, "what": what, "when": when, "next_run": schedules.next_run(task),
                     "system": schedules.is_system(task)})
    return rows


def scheduler_list(request: HttpRequest) -> HttpResponse:
    form = SchedulerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        task = form.save()
        messages.success(request, f"Scheduler “{task.name}” saved.")
        return redirect("connections:scheduler_list")
    return render(request, "connections/scheduler_list.html", {"rows": _rows(), "form": form})


def scheduler_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(PeriodicTask, pk=pk)
    if schedules.is_system(task):
        messages.error(request, "Built-in jobs can be paused, not edited.")
        return redirect("connections:scheduler_list")
    form = SchedulerForm(request.POST or None, instance=task)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Scheduler “{task.name}” saved.")
        return redirect("connections:scheduler_list")
    return render(request, "connections/scheduler_form.html", {"form": form, "task": task})


@require_POST
def scheduler_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(PeriodicTask, pk=pk)
    task.enabled = not task.enabled
    task.save(update_fields=["enabled"])  # also tells beat the schedule changed
    messages.success(request, f"Scheduler “{task.name}” {'enabled' if task.enabled else 'disabled'}.")
    return redirect("connections:scheduler_list")


@require_POST
def scheduler_delete(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(PeriodicTask, pk=pk)
    if schedules.is_system(task):
        messages.error(request, "Built-in jobs can be paused, not deleted.")
        return redirect("connections:scheduler_list")
    task.delete()
    messages.success(request, f"Scheduler “{task.name}” deleted.")
    return redirect("connections:scheduler_list")


urlpatterns = [
    path("", scheduler_list, name="scheduler_list"),
    path("<int:pk>/edit/", scheduler_edit, name="scheduler_edit"),
    path("<int:pk>/toggle/", scheduler_toggle, name="scheduler_toggle"),
    path("<int:pk>/delete/", scheduler_delete, name="scheduler_delete"),
]

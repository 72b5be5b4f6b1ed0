"""Pages for keeping systems in sync: create or update (outgoing), incremental fetch (incoming), review of tasks."""
from __future__ import annotations

import json

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from connections import engine
from connections.models import Incoming, Outgoing, Task
from storages import store

from . import watermarks
from .forms import CreateOrUpdateForm, WatermarkForm, prefill, prefill_filter
from .models import CreateOrUpdate, Watermark
from .publishing import REVIEW_PREFIX, source_key

app_name = "sync"


@require_http_methods(["GET", "POST"])
def outgoing_settings(request: HttpRequest, pk: int) -> HttpResponse:
    outgoing = get_object_or_404(Outgoing.objects.select_related("client"), pk=pk)
    plan = CreateOrUpdate.objects.filter(outgoing=outgoing).first()
    if plan is None:
        plan = CreateOrUpdate(outgoing=outgoing, **prefill(outgoing))
    form = CreateOrUpdateForm(request.POST or None, instance=plan, outgoing=outgoing)
    if request.method == "POST" and form.is_valid():
        plan = form.save()
        if plan.enabled:
            messages.success(request, f"Create or update is on: ids are kept in the storage “{plan.storage.name}”.")
        else:
            messages.success(request, "Create or update is off: every task creates a record.")
        return redirect(outgoing)
    return render(request, "sync/outgoing_settings.html", {
        "title": f"Create or update: {outgoing.name}", "outgoing": outgoing, "form": form, "plan": plan})


@require_http_methods(["GET", "POST"])
def incoming_settings(request: HttpRequest, pk: int) -> HttpResponse:
    incoming = get_object_or_404(Incoming, pk=pk)
    mark = Watermark.objects.filter(incoming=incoming).first() or Watermark(
        incoming=incoming, time_zone=prefill_filter(incoming.platform).get("timezone", "UTC"))
    form = WatermarkForm(request.POST or None, instance=mark)
    suggestion = prefill_filter(incoming.platform)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            mark = form.save()
            if form.cleaned_data.get("add_filter") and suggestion:
                _add_filter(incoming, suggestion)
        if mark.enabled and not watermarks._has_placeholder(incoming.request_parameters):
            messages.warning(request, "Incremental fetch is on, but the request parameters have no "
                                      "&{watermark:FORMAT} placeholder yet, so runs still read everything.")
        else:
            messages.success(request, "Incremental fetch saved.")
        return redirect(incoming)
    return render(request, "sync/incoming_settings.html", {
        "title": f"Incremental fetch: {incoming.name}", "incoming": incoming, "form": form, "mark": mark,
        "suggestion": suggestion,
        "suggestion_json": json.dumps({k: v for k, v in suggestion.items() if k in ("query", "payload")}),
        "next_from": watermarks.effective(mark) if mark.pk else None,
        "rendered": json.dumps(watermarks.render(incoming.request_parameters or {}, incoming), indent=2,
                               ensure_ascii=False) if mark.pk else "",
    })


def _add_filter(incoming: Incoming, suggestion: dict) -> None:
    params = dict(incoming.request_parameters or {})
    for part in ("query", "payload"):
        if part in suggestion:
            params[part] = {**(params.get(part) or {}), **suggestion[part]}
    incoming.request_parameters = params
    incoming.save(update_fields=["request_parameters", "updated_at"])


@require_POST
def incoming_reset(request: HttpRequest, pk: int) -> HttpResponse:
    incoming = get_object_or_404(Incoming, pk=pk)
    watermarks.reset(incoming)
    messages.success(request, "Watermark reset: the next run reads every record again.")
    return redirect(request.POST.get("next") or incoming.get_absolute_url())


@require_POST
def task_review(request: HttpRequest, pk: int) -> HttpResponse:
    """A task marked “Needs review”: record the destination id a person found, or create the record after all."""
    task = get_object_or_404(Task.objects.select_related("route__outgoing"), pk=pk)
    plan = CreateOrUpdate.objects.filter(outgoing=task.route.outgoing, enabled=True).select_related("storage").first()
    if plan is None or task.status != Task.Status.FAILED or not task.last_error.startswith(REVIEW_PREFIX):
        messages.error(request, "This task is not waiting for a review.")
        return redirect(task)
    key = source_key(plan, task.data)
    who = f"user {request.user.get_username()}"
    if request.POST.get("action") == "record":
        destination = request.POST.get("destination_id", "").strip()
        if not destination:
            messages.error(request, "Enter the id of the record you found at the destination.")
            return redirect(task)
        value = int(destination) if destination.isdigit() else destination
        store.save(plan.storage, key, {"id": value, "task": task.pk, "how": "recorded by a person"}, source=who)
        messages.success(request, f"Recorded: source id {key} is record {value}. The task is queued again and will "
                                  "update that record.")
    else:
        store.delete(plan.storage, [key], source=who)
        messages.success(request, "The task is queued again and will create the record.")
    engine.retry_tasks([task.pk])
    return redirect(task)


urlpatterns = [
    path("outgoing/<int:pk>/create-or-update/", outgoing_settings, name="outgoing"),
    path("incoming/<int:pk>/incremental/", incoming_settings, name="incoming"),
    path("incoming/<int:pk>/incremental/reset/", incoming_reset, name="incoming_reset"),
    path("tasks/<int:pk>/review/", task_review, name="task_review"),
]

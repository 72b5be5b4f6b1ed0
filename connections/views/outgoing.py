"""Connections -> Outgoing: publisher configurations, their dependent dropdowns, request preview, import/export."""
from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.platforms.base import UnknownEntity
from clients.platforms.request import RequestBuildError

from ..catalog import find_entity, platform_or_none
from ..form_fields import JSONObjectField
from ..forms import OutgoingForm
from ..models import Outgoing, OutgoingTransformer
from ..preview import build_outgoing_request
from .incoming import (
    delete_configuration,
    duplicate_configuration,
    edit_context,
    entity_label,
    export_response,
    filter_configurations,
    form_or_saved,
    import_view,
    render_entity_options,
    render_fields,
    render_params_hint,
)


@require_GET
def outgoing_list(request: HttpRequest) -> HttpResponse:
    queryset, filters = filter_configurations(request, Outgoing.objects.select_related("client"))
    rows = list(queryset)
    for row in rows:
        platform = platform_or_none(row.platform)
        row.publisher_label = platform.publisher_label if platform else row.platform
        row.entity_name = entity_label(row)
    return render(request, "connections/outgoing_list.html", {"rows": rows, "filters": filters, "title": "Outgoing"})


@require_http_methods(["GET", "POST"])
def outgoing_create(request: HttpRequest) -> HttpResponse:
    return _outgoing_form(request, Outgoing())


@require_http_methods(["GET", "POST"])
def outgoing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _outgoing_form(request, get_object_or_404(Outgoing, pk=pk))


def sample_data(outgoing: Outgoing) -> dict:
    """A starting point for the preview: the entity's path parameters, empty query and payload."""
    platform = platform_or_none(outgoing.platform)
    entity = find_entity(platform, outgoing.entity) if platform else None
    names = entity.path_params if entity else ()
    return {"path": {name: "" for name in names}, "query": {}, "payload": {}}


def _outgoing_form(request: HttpRequest, outgoing: Outgoing) -> HttpResponse:
    form, saved = form_or_saved(request, OutgoingForm, outgoing)
    if saved:
        return saved
    creating = outgoing.pk is None
    context = edit_context(form, "outgoing")
    context.update({"outgoing": outgoing, "creating": creating})
    context["sample"] = json.dumps(sample_data(outgoing), indent=2)
    if not creating:
        context["routes"] = list(outgoing.routes.all())
    return render(request, "connections/outgoing_form.html", context)


@require_GET
def outgoing_fields(request: HttpRequest) -> HttpResponse:
    return render_fields(request, OutgoingForm, "outgoing")


@require_GET
def outgoing_entity_options(request: HttpRequest) -> HttpResponse:
    return render_entity_options(request, OutgoingForm, "outgoing")


@require_GET
def outgoing_params_hint(request: HttpRequest) -> HttpResponse:
    return render_params_hint(request, OutgoingForm, "outgoing")


@require_POST
def outgoing_preview(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The exact request the engine would send for the sample entity data typed on the page.

    The configuration form's fields come along (hx-include), so the preview uses the form as
    typed, unsaved edits included, and works on a new configuration before its first save.
    """
    outgoing = get_object_or_404(Outgoing.objects.select_related("client"), pk=pk) if pk else Outgoing()
    text = request.POST.get("sample", "")
    context: dict = {"outgoing": outgoing, "sample": text}
    form = OutgoingForm(request.POST, instance=outgoing) if "entity" in request.POST else None
    try:
        draft = _draft(form) if form is not None else outgoing
        data = JSONObjectField().clean(text)
        context["built"] = build_outgoing_request(draft, data)
    except Exception as exc:  # noqa: BLE001 - every failure is shown as the preview's error
        context["error"] = _preview_error(exc)
    if request.htmx:
        return render(request, "connections/_preview.html", context)
    form = form or OutgoingForm(instance=outgoing)
    context.update(edit_context(form, "outgoing"))
    context.update({"creating": pk is None, "routes": list(outgoing.routes.all()) if pk else []})
    return render(request, "connections/outgoing_form.html", context)


_PREVIEW_FIELDS = ("platform", "method", "entity", "client", "query", "payload")


def _draft(form: OutgoingForm) -> Outgoing:
    """An unsaved Outgoing from the form as typed; only the fields a request needs must be valid."""
    form.is_valid()
    problems = [f"{form.fields[name].label or name}: {' '.join(form.errors[name])}"
                for name in _PREVIEW_FIELDS if name in form.errors]
    if problems:
        raise ValueError("Fix the form first: " + " ".join(problems))
    data = form.cleaned_data
    return Outgoing(platform=data["platform"], method=data.get("method") or "", entity=data["entity"],
                    client=data["client"], query=data.get("query") or {}, payload=data.get("payload") or {})


def _preview_error(exc: Exception) -> str:
    from django.core.exceptions import ValidationError

    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    if isinstance(exc, RequestBuildError | UnknownEntity | ValueError | LookupError):
        return str(exc).strip("'\"")
    return f"{type(exc).__name__}: the request could not be built"


@require_POST
def outgoing_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    return duplicate_configuration(request, Outgoing, pk, OutgoingTransformer)


@require_POST
def outgoing_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return delete_configuration(request, get_object_or_404(Outgoing, pk=pk), reverse("connections:outgoing_list"))


@require_GET
def outgoing_export(request: HttpRequest) -> HttpResponse:
    return export_response(request, Outgoing, "outgoing")


@require_http_methods(["GET", "POST"])
def outgoing_import(request: HttpRequest) -> HttpResponse:
    return import_view(request, "outgoing_list")


urlpatterns = [
    path("", outgoing_list, name="outgoing_list"),
    path("new/", outgoing_create, name="outgoing_create"),
    path("new/preview/", outgoing_preview, name="outgoing_preview_draft"),
    path("fields/", outgoing_fields, name="outgoing_fields"),
    path("entities/", outgoing_entity_options, name="outgoing_entity_options"),
    path("params-hint/", outgoing_params_hint, name="outgoing_params_hint"),
    path("export/", outgoing_export, name="outgoing_export"),
    path("import/", outgoing_import, name="outgoing_import"),
    path("<int:pk>/", outgoing_edit, name="outgoing_edit"),
    path("<int:pk>/preview/", outgoing_preview, name="outgoing_preview"),
    path("<int:pk>/duplicate/", outgoing_duplicate, name="outgoing_duplicate"),
    path("<int:pk>/delete/", outgoing_delete, name="outgoing_delete"),
]

"""Connections -> Incoming: subscriber configurations, their dependent dropdowns, Run test, import/export.

The helpers at the top are shared with connections/views/outgoing.py: both kinds have the
same platform -> (method) -> entity -> HTTP Client chain, re-rendered one partial at a time.
"""
from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import OuterRef, ProtectedError, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alumio_lite.filters import id_param, id_params, text_param
from audit import events as audit
from clients.platforms import bodies
from clients.platforms.registry import PLATFORMS
from webhooks.parsers import WEBHOOK, WEBHOOK_LABEL

from .. import files, import_jobs, portable, run_test
from ..catalog import find_entity, platform_or_none
from ..forms import ConfigurationForm, ImportForm, IncomingForm, derived_identifier
from ..models import ImportJob, Incoming, IncomingTransformer, Run, RunTest, WorkerHeartbeat

# --- shared by Incoming and Outgoing --------------------------------------------------------


def entity_label(obj) -> str:
    """The entity's name as the docs call it, for lists (the key if the catalog lost it)."""
    platform = platform_or_none(obj.platform)
    entity = find_entity(platform, obj.entity) if platform else None
    return entity.name if entity else obj.entity


def filter_configurations(request: HttpRequest, queryset: QuerySet) -> tuple[QuerySet, dict]:
    """Search (name, identifier, description, entity) and filters (platform, state) from the query string."""
    q = text_param(request.GET.get("q"))
    platform = request.GET.get("platform", "")
    state = request.GET.get("state", "")
    if q:
        queryset = queryset.filter(
            Q(name__icontains=q) | Q(identifier__icontains=q) | Q(description__icontains=q) | Q(entity__icontains=q)
        )
    if platform in PLATFORMS:
        queryset = queryset.filter(platform=platform)
    if state == "enabled":
        queryset = queryset.filter(disabled=False)
    elif state == "disabled":
        queryset = queryset.filter(disabled=True)
    return queryset, {"q": q, "platform": platform, "state": state, "platforms": PLATFORMS.values()}


def partial_form(request: HttpRequest, form_class: type[ConfigurationForm]) -> ConfigurationForm:
    """An unbound form carrying what the page has typed so far, to re-render one dependent part."""
    initial = {k: v for k, v in request.GET.items() if k in ("platform", "method", "entity", "client")}
    form = form_class(initial=initial)
    if form.chosen_platform is None or (form.needs_method and not form.current_method):
        form.initial["entity"] = ""
    elif form.current_entity is None or (form.current_method and form.current_entity.method != form.current_method):
        form.initial["entity"] = ""  # the entity belongs to the previous platform or method
    return form


def render_fields(request: HttpRequest, form_class: type[ConfigurationForm], kind: str) -> HttpResponse:
    form = partial_form(request, form_class)
    return render(request, "connections/_entity_fields.html", {"form": form, "kind": kind, **_option_context(form)})


def render_entity_options(request: HttpRequest, form_class: type[ConfigurationForm], kind: str) -> HttpResponse:
    form = partial_form(request, form_class)
    context = _option_context(form, request.GET.get("entity_q", ""))
    return render(request, "connections/_entity_options.html", {"form": form, "kind": kind, **context})


def render_params_hint(request: HttpRequest, form_class: type[ConfigurationForm], kind: str) -> HttpResponse:
    form = partial_form(request, form_class)
    return render(request, "connections/_params_hint.html", {"form": form, "kind": kind, **_hint_context(form)})


def kind_urls(kind: str) -> dict[str, str]:
    """The partial endpoints a form of this kind calls when a dropdown changes."""
    return {
        "fields": reverse(f"connections:{kind}_fields"),
        "options": reverse(f"connections:{kind}_entity_options"),
        "hint": reverse(f"connections:{kind}_params_hint"),
    }


def _option_context(form: ConfigurationForm, text: str = "") -> dict:
    groups, shown, total = form.entity_search_results(text)
    return {
        "entity_groups": groups,
        "entity_shown": shown,
        "entity_total": total,
        "entity_query": text,
        "current_entity": form.current_entity,
        **_hint_context(form),  # with the partials' urls
    }


def _hint_context(form: ConfigurationForm) -> dict:
    entity = form.current_entity
    urls = kind_urls("incoming" if form.role == "subscriber" else "outgoing")
    if entity is None:
        return {"hint_entity": None, "urls": urls}
    template = {"path": {name: "" for name in entity.path_params}, "query": {}}
    context = {"urls": urls, "hint_entity": entity}
    if form.role == "publisher":
        template["payload"] = {}
        if entity.has_body:  # what the body takes, and a payload to start from
            context.update(hint_body_fields=bodies.body_fields(entity),
                           hint_payload_template=json.dumps(bodies.payload_template(entity)))
    context.update(hint_template=json.dumps(template),
                   hint_query_params=[q for q in entity.query_params if isinstance(q, dict)])
    return context


def edit_context(form: ConfigurationForm, kind: str) -> dict:
    return {"form": form, "kind": kind, **_option_context(form)}


def form_or_saved(
    request: HttpRequest, form_class: type[ConfigurationForm], obj
) -> tuple[ConfigurationForm, HttpResponse | None]:
    """The page's form, and the redirect when a POST saved it.

    A new configuration takes ?platform= and ?client= from a client page's "New incoming/outgoing
    configuration" links.
    """
    creating = obj.pk is None
    if request.method != "POST":
        initial = {k: request.GET[k] for k in ("platform", "client") if k in request.GET} if creating else {}
        return form_class(instance=obj, initial=initial), None
    form = form_class(request.POST, instance=obj)
    if not form.is_valid():
        return form, None
    with transaction.atomic():
        obj = form.save()
    messages.success(request, f"{'Created' if creating else 'Saved'} “{obj.name}”.")
    return form, redirect(obj.get_absolute_url())


def duplicate_configuration(request: HttpRequest, model, pk: int, link_model, **reset) -> HttpResponse:
    """A copy named "… (copy)" with a fresh identifier, the same transformers in the same order, `reset` fields."""
    original = get_object_or_404(model, pk=pk)
    fk = model._meta.model_name  # the link's foreign key: "incoming" or "outgoing"
    with transaction.atomic():
        copy = model.objects.get(pk=pk)
        copy.pk = copy.id = None
        copy._state.adding = True
        copy.name = f"{original.name} (copy)"
        copy.identifier = derived_identifier(f"{original.identifier}-copy", model, "configuration")
        for name, value in reset.items():
            setattr(copy, name, value)
        copy.save()
        links = list(link_model.objects.filter(**{fk: original}))
        for link in links:
            link.pk = None
            setattr(link, fk, copy)
        link_model.objects.bulk_create(links)
    messages.success(request, f"Duplicated “{original.name}” as “{copy.name}”.")
    return redirect(copy.get_absolute_url())


def delete_configuration(request: HttpRequest, obj, list_url: str) -> HttpResponse:
    """Delete, or say clearly which routes still use it (Route FKs are PROTECT)."""
    try:
        obj.delete()
    except ProtectedError as exc:
        routes = sorted({str(r) for r in exc.protected_objects})
        messages.error(
            request,
            f"“{obj.name}” cannot be deleted: it is used by the route(s) {', '.join(routes)}. "
            "Remove it from those routes first.",
        )
        return redirect(obj.get_absolute_url())
    messages.success(request, f"Deleted “{obj.name}”.")
    return redirect(list_url)


def export_response(request: HttpRequest, model, kind: str) -> HttpResponse:
    """One, several (?id=1&id=2) or all configurations of `kind` as a JSON file."""
    asked = request.GET.getlist("id")
    ids = id_params(asked)
    queryset = model.objects.select_related("client").order_by("identifier")
    if asked:  # ids that can name no row export nothing, not everything
        queryset = queryset.filter(pk__in=ids)
    document = portable.export_document(**{kind: list(queryset)})
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    name = f"{kind}-{queryset[0].identifier}" if len(ids) == 1 and queryset else f"{kind}-{stamp}"
    response = HttpResponse(portable.dumps(document), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response


def import_view(request: HttpRequest, back_url_name: str, back_url: str = "") -> HttpResponse:
    """Upload an export file; a dry run says what would change, else everything is applied or nothing."""
    report = None
    problem = ""
    form = ImportForm(request.POST or None, request.FILES or None)
    back_url = back_url or reverse(f"connections:{back_url_name}")
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        raw = upload.read()
        try:
            document = portable.loads(raw)
        except portable.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            total = portable.entry_count(document)
            if total > settings.IMPORT_INLINE_LIMIT:  # too long for one web request: a worker does it
                job = import_jobs.start(raw.decode("utf-8"), upload.name, form.cleaned_data["dry_run"], total,
                                        back_url)
                return redirect("connections:import_job", job.pk)
            report = portable.import_document(document, dry_run=form.cleaned_data["dry_run"])
            if report.applied:
                audit.record("Import", detail=report.summary(), file=form.cleaned_data["file"].name[:200])
                messages.success(request, report.summary())
            elif not report.ok:
                problem = "Nothing was imported: fix the errors below and upload the file again."
    return render(
        request,
        "connections/incoming_import.html",
        {"form": form, "report": report, "problem": problem, "back_url": back_url},
    )


def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """A big import on a worker: progress while it runs (htmx polls this), then its report."""
    job = get_object_or_404(ImportJob.objects.defer("text"), pk=pk)
    template = "connections/_import_job.html" if request.htmx else "connections/import_job.html"
    return render(request, template, {"job": job, "back_url": job.back_url or reverse("connections:incoming_list"),
                                      "no_worker": not WorkerHeartbeat.online().exists()})


# --- Incoming pages -------------------------------------------------------------------------


@require_GET
def incoming_list(request: HttpRequest) -> HttpResponse:
    # Each incoming's newest run from the (incoming, created_at) index: a MAX over a join read every run.
    last_run = Run.objects.filter(incoming=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
    queryset = Incoming.objects.select_related("client").annotate(last_run=Subquery(last_run))
    queryset, filters = filter_configurations(request, queryset)
    rows = list(queryset)
    for row in rows:
        platform = platform_or_none(row.platform)
        row.subscriber_label = platform.subscriber_label if platform else WEBHOOK_LABEL if row.platform == WEBHOOK \
            else row.platform
        row.entity_name = entity_label(row)
    return render(request, "connections/incoming_list.html", {"rows": rows, "filters": filters, "title": "Incoming"})


@require_http_methods(["GET", "POST"])
def incoming_create(request: HttpRequest) -> HttpResponse:
    return _incoming_form(request, Incoming())


@require_http_methods(["GET", "POST"])
def incoming_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _incoming_form(request, get_object_or_404(Incoming, pk=pk))


def _incoming_form(request: HttpRequest, incoming: Incoming) -> HttpResponse:
    form, saved = form_or_saved(request, IncomingForm, incoming)
    if saved:
        return saved
    creating = incoming.pk is None
    context = edit_context(form, "incoming")
    context.update({"incoming": incoming, "creating": creating})
    if not creating:
        test_id = id_param(request.GET.get("test"))
        test = RunTest.objects.filter(incoming=incoming, pk=test_id).first() if test_id else None
        context["test"] = test or incoming.tests.first()
        context["routes"] = list(incoming.routes.all())
    return render(request, "connections/incoming_form.html", context)


@require_GET
def incoming_fields(request: HttpRequest) -> HttpResponse:
    return render_fields(request, IncomingForm, "incoming")


@require_GET
def incoming_entity_options(request: HttpRequest) -> HttpResponse:
    return render_entity_options(request, IncomingForm, "incoming")


@require_GET
def incoming_params_hint(request: HttpRequest) -> HttpResponse:
    return render_params_hint(request, IncomingForm, "incoming")


@require_POST
def incoming_run_test(request: HttpRequest, pk: int) -> HttpResponse:
    incoming = get_object_or_404(Incoming.objects.select_related("client"), pk=pk)
    draft = None
    if "entity" in request.POST:  # the form's fields came along (hx-include): test them as typed
        form = IncomingForm(request.POST, instance=Incoming.objects.get(pk=pk))
        if not form.is_valid():
            return render(request, "connections/_run_test.html", {
                "incoming": incoming, "draft_invalid": True})
        draft = run_test.Draft(form.save(commit=False), list(form.cleaned_data.get("input_transformers") or []))
    test = run_test.start(incoming, draft)
    if request.htmx:
        return render(request, "connections/_run_test.html", {"incoming": incoming, "test": test})
    return redirect(f"{incoming.get_absolute_url()}?test={test.pk}#run-test")


@require_GET
def incoming_run_test_status(request: HttpRequest, pk: int, test_id: int) -> HttpResponse:
    test = get_object_or_404(RunTest.objects.select_related("incoming"), pk=test_id, incoming_id=pk)
    run_test.mark_if_lost(test)
    if not request.htmx:
        return redirect(f"{test.incoming.get_absolute_url()}?test={test.pk}#run-test")
    return render(request, "connections/_run_test.html", {"incoming": test.incoming, "test": test})


@require_POST
def incoming_run_test_cancel(request: HttpRequest, pk: int, test_id: int) -> HttpResponse:
    test = get_object_or_404(RunTest.objects.select_related("incoming"), pk=test_id, incoming_id=pk)
    run_test.cancel(test)
    test.refresh_from_db()
    if request.htmx:
        return render(request, "connections/_run_test.html", {"incoming": test.incoming, "test": test})
    return redirect(f"{test.incoming.get_absolute_url()}?test={test.pk}#run-test")


@require_GET
def incoming_run_test_file(request: HttpRequest, pk: int, test_id: int, index: int) -> HttpResponse:
    """A file among the test's first entities (a download's answer), as an attachment."""
    test = get_object_or_404(RunTest.objects.only("id", "sample"), pk=test_id, incoming_id=pk)
    return files.download(test.sample, index)


@require_POST
def incoming_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    return duplicate_configuration(request, Incoming, pk, IncomingTransformer, last_test=None)


@require_POST
def incoming_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return delete_configuration(request, get_object_or_404(Incoming, pk=pk), reverse("connections:incoming_list"))


@require_GET
def incoming_export(request: HttpRequest) -> HttpResponse:
    return export_response(request, Incoming, "incoming")


@require_http_methods(["GET", "POST"])
def incoming_import(request: HttpRequest) -> HttpResponse:
    return import_view(request, "incoming_list")


urlpatterns = [
    path("", incoming_list, name="incoming_list"),
    path("new/", incoming_create, name="incoming_create"),
    path("fields/", incoming_fields, name="incoming_fields"),
    path("entities/", incoming_entity_options, name="incoming_entity_options"),
    path("params-hint/", incoming_params_hint, name="incoming_params_hint"),
    path("export/", incoming_export, name="incoming_export"),
    path("import/", incoming_import, name="incoming_import"),
    path("import/jobs/<int:pk>/", import_job, name="import_job"),
    path("<int:pk>/", incoming_edit, name="incoming_edit"),
    path("<int:pk>/duplicate/", incoming_duplicate, name="incoming_duplicate"),
    path("<int:pk>/delete/", incoming_delete, name="incoming_delete"),
    path("<int:pk>/test/", incoming_run_test, name="incoming_run_test"),
    path("<int:pk>/test/<int:test_id>/", incoming_run_test_status, name="incoming_run_test_status"),
    path("<int:pk>/test/<int:test_id>/cancel/", incoming_run_test_cancel, name="incoming_run_test_cancel"),
    path("<int:pk>/test/<int:test_id>/files/<int:index>/", incoming_run_test_file, name="incoming_run_test_file"),
]

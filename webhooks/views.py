"""Connections -> Webhooks pages: list, form, delete; the requests page with Replay.

Plain function views in the style of connections/views, one job each, so a permission check
can wrap each of them.
"""
from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alumio_lite.filters import filter_by_day
from clients.redaction import redact_headers, redact_text, redact_url
from connections.models import Incoming

from . import presets, processing, validators
from .forms import WebhookForm
from .models import Webhook, WebhookRequest
from .registration import RegistrationError, public_url_problem, register, unregister

PAGE_SIZE = 50
BODY_SHOWN = 100_000  # characters of a body shown on a request's page


def public_url(webhook: Webhook) -> str:
    return settings.PUBLIC_BASE_URL + webhook.endpoint_path()


@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    rows = list(Webhook.objects.prefetch_related("incomings").annotate(last_request=Max("requests__received_at")))
    for row in rows:
        row.validator_words = validators.describe(row.validators or {})
        row.url = public_url(row)
    return render(request, "webhooks/webhook_list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    return _webhook_form(request, Webhook())


@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _webhook_form(request, get_object_or_404(Webhook, pk=pk))


def _webhook_form(request: HttpRequest, webhook: Webhook) -> HttpResponse:
    creating = webhook.pk is None
    initial = {}
    if creating and request.GET.get("incoming", "").isdigit():
        initial["incomings"] = [int(request.GET["incoming"])]
    form = WebhookForm(request.POST or None, instance=webhook, initial=initial)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            webhook = form.save()
        messages.success(request, f"{'Created' if creating else 'Saved'} “{webhook.name}”.")
        return redirect(webhook.get_absolute_url())
    context = {
        "form": form, "webhook": webhook, "creating": creating,
        "presets_json": {p.platform: {"validators": p.validators, "notes": p.notes} for p in presets.PRESETS.values()},
        "no_webhook_incoming": not Incoming.objects.filter(platform="webhook").exists(),
    }
    if not creating:
        context.update(
            url=public_url(webhook), url_problem=public_url_problem(settings.PUBLIC_BASE_URL),
            recent=webhook.requests.order_by("-received_at", "-pk")[:10],
            **registration_context(webhook),
        )
    return render(request, "webhooks/webhook_form.html", context)


def registration_context(webhook: Webhook) -> dict:
    from clients.models import HttpClient

    preset = presets.PRESETS.get(webhook.preset)
    return {
        "preset": preset,
        "registration_clients": HttpClient.objects.filter(platform=webhook.preset).order_by("name")
        if preset else [],
    }


@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = get_object_or_404(Webhook, pk=pk)
    if webhook.registration.get("id"):
        messages.error(request, f"“{webhook.name}” is still registered at {presets.PRESETS[webhook.preset].label}: "
                                "remove the subscription there first (Remove at the platform).")
        return redirect(webhook.get_absolute_url())
    webhook.delete()
    messages.success(request, f"Deleted “{webhook.name}” and its received requests.")
    return redirect("webhooks:list")


@require_POST
def webhook_register(request: HttpRequest, pk: int) -> HttpResponse:
    """Register at the platform: create the subscriptions through the chosen HTTP Client."""
    from clients.models import HttpClient

    webhook = get_object_or_404(Webhook, pk=pk)
    client = HttpClient.objects.filter(pk=request.POST.get("client") or 0).first()
    if client is None:
        messages.error(request, "Choose the HTTP Client to register with.")
        return redirect(webhook.get_absolute_url() + "#register")
    try:
        made = register(webhook, client, request.POST.getlist("events"),
                        {"account_id": request.POST.get("account_id", "")})
    except RegistrationError as exc:
        messages.error(request, str(exc))
    else:
        ids = ", ".join(s["id"] for s in made["subscriptions"])
        messages.success(request, f"Registered at {presets.PRESETS[webhook.preset].label}: subscription id {ids}.")
    return redirect(webhook.get_absolute_url() + "#register")


@require_POST
def webhook_unregister(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = get_object_or_404(Webhook, pk=pk)
    try:
        unregister(webhook)
    except RegistrationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Removed the subscription at the platform.")
    return redirect(webhook.get_absolute_url() + "#register")


@require_GET
def webhook_export(request: HttpRequest) -> HttpResponse:
    """One (?id=), several or all webhooks as an export file, with the Incoming configurations they feed."""
    from connections import portable

    ids = [i for i in request.GET.getlist("id") if i.isdigit()]
    webhooks = Webhook.objects.order_by("identifier").prefetch_related("incomings")
    if ids:
        webhooks = webhooks.filter(pk__in=ids)
    incomings = Incoming.objects.filter(webhooks__in=webhooks).distinct().order_by("identifier")
    document = portable.export_document(incoming=list(incomings), webhooks=list(webhooks))
    name = f"webhook-{webhooks[0].identifier}" if len(ids) == 1 and webhooks else "webhooks"
    response = HttpResponse(portable.dumps(document), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response


@require_http_methods(["GET", "POST"])
def webhook_import(request: HttpRequest) -> HttpResponse:
    from connections.views.incoming import import_view

    return import_view(request, "incoming_list", back_url=reverse("webhooks:list"))


# --- received requests -----------------------------------------------------------------------


def filter_requests(params) -> tuple:
    queryset = WebhookRequest.objects.select_related("webhook").defer("body")
    webhook = params.get("webhook", "")
    status = params.get("status", "")
    incoming = params.get("incoming", "")
    if webhook.isdigit():
        queryset = queryset.filter(webhook_id=int(webhook))
    if incoming.isdigit():
        queryset = queryset.filter(webhook__incomings=int(incoming))
    if status in WebhookRequest.Status.values:
        queryset = queryset.filter(status=status)
    queryset, day = filter_by_day(queryset, params.get("date", ""), field="received_at")
    return queryset, {"webhook": webhook, "status": status, "incoming": incoming, **day}


@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    queryset, filters = filter_requests(request.GET)
    page = Paginator(queryset.order_by("-received_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": page, "rows": page.object_list, "filters": filters, "query": query.urlencode(),
               "webhooks": Webhook.objects.only("id", "name"), "statuses": WebhookRequest.Status.choices}
    if request.htmx:
        return render(request, "webhooks/_request_table.html", context)
    return render(request, "webhooks/request_list.html", context)


def redacted_body(webhook: Webhook, body: bytes) -> tuple[str, bool]:
    """The body as text for the page: secrets blanked, JSON pretty-printed; and whether it was cut."""
    text = body.decode("utf-8", "replace")
    try:
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        pass
    text = redact_text(text, webhook.secret_values())
    return text[:BODY_SHOWN], len(text) > BODY_SHOWN


@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(WebhookRequest.objects.select_related("webhook"), pk=pk)
    secrets = item.webhook.secret_values()
    body, cut = redacted_body(item.webhook, bytes(item.body))
    from connections.models import Run

    runs = Run.objects.filter(pk__in=list((item.runs or {}).values())).select_related("incoming")
    return render(request, "webhooks/request_detail.html", {
        "item": item, "headers": redact_headers(item.headers, secrets), "body": body, "body_cut": cut,
        "query_string": redact_url("?" + item.query_string, secrets)[1:] if item.query_string else "",
        "runs": runs,
    })


@require_POST
def request_replay(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(WebhookRequest, pk=pk)
    if processing.replay(item):
        from .tasks import notify_worker

        transaction.on_commit(lambda: notify_worker(item.pk))
        messages.success(request, f"Request {item.pk} queued to be processed again.")
    elif item.status == WebhookRequest.Status.PROCESSING:
        messages.warning(request, f"Request {item.pk} is being processed right now; replay it when it is done.")
    else:
        messages.error(request, f"Request {item.pk} was refused by a validator: it has no body to process.")
    return redirect(reverse("webhooks:request_detail", args=[item.pk]))

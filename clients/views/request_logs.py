"""Logs -> Request logs: every logged HTTP exchange (already redacted when it was written),
filterable by client, status class and date, and one exchange in detail."""
from __future__ import annotations

import json

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path

from alumio_lite.filters import filter_by_day, text_param
from alumio_lite.keyset import keyset_page

from ..models import REQUEST_LOG_ERRORS, REQUEST_LOG_UNSUCCESSFUL, HttpClient, RequestLog

# Every class but 2xx is read from the partial index of unsuccessful logs, newest first (the
# condition is repeated so the database sees that). 2xx is most of the table: reading the newest
# rows and skipping the others is cheaper than any index.
STATUS_CLASSES = {
    "2xx": ("2xx success", Q(status__gte=200, status__lt=300)),
    "3xx": ("3xx redirect", Q(status__gte=300, status__lt=400) & REQUEST_LOG_UNSUCCESSFUL),
    "4xx": ("4xx client error", Q(status__gte=400, status__lt=500) & REQUEST_LOG_UNSUCCESSFUL),
    "5xx": ("5xx server error", Q(status__gte=500) & REQUEST_LOG_UNSUCCESSFUL),
    "errors": ("Errors (4xx, 5xx, no response)", REQUEST_LOG_ERRORS & REQUEST_LOG_UNSUCCESSFUL),
}
PAGE_SIZE = 50


def filter_logs(params) -> tuple[QuerySet[RequestLog], dict]:
    """The request logs matching the query-string filters, and the filters as understood."""
    # The list shows client names only: don't load (and decrypt) every row's secrets and tokens.
    logs = RequestLog.objects.select_related("client").defer(
        "client__secrets", "client__tokens", "request_headers", "request_body", "response_headers", "response_body")
    client = text_param(params.get("client"))
    status = params.get("status", "")
    if client:
        # By id, so the (client, id) index serves the list newest first.
        found = HttpClient.objects.filter(identifier=client).values_list("pk", flat=True).first()
        logs = logs.filter(client_id=found) if found else logs.none()
    if status in STATUS_CLASSES:
        logs = logs.filter(STATUS_CLASSES[status][1])
    logs, day = filter_by_day(logs, params.get("date", ""))
    filters = {"client": client, "status": status, **day}
    return logs, filters


def request_logs(request: HttpRequest) -> HttpResponse:
    logs, filters = filter_logs(request.GET)
    page = keyset_page(logs, request.GET.get("before", ""), PAGE_SIZE, by_created=bool(filters["date"]))
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "page": page,
        "filters": filters,
        "query": query.urlencode(),
        "clients": HttpClient.objects.only("name", "identifier"),
        "status_classes": [(k, v[0]) for k, v in STATUS_CLASSES.items()],
        "title": "Request logs",
    }
    template = "clients/_request_log_table.html" if request.htmx else "clients/request_log_list.html"
    return render(request, template, context)


def _pretty(body: str) -> str:
    """JSON bodies indented for reading; anything else as stored."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):  # RecursionError: a platform's thousands of nested [
        return body


def request_log(request: HttpRequest, pk: int) -> HttpResponse:
    log = get_object_or_404(RequestLog.objects.select_related("client", "run", "task"), pk=pk)
    return render(request, "clients/request_log_detail.html", {
        "log": log,
        "request_body": _pretty(log.request_body),
        "response_body": _pretty(log.response_body),
        "run_url": _url_of(log.run),
        "task_url": _url_of(log.task),
        "body_limit": settings.REQUEST_LOG_BODY_LIMIT,
    })


def _url_of(obj) -> str:
    if obj is None:
        return ""
    try:
        return obj.get_absolute_url()
    except Exception:  # the connections app may not route these yet
        return ""


urlpatterns = [
    path("", request_logs, name="request_logs"),
    path("<int:pk>/", request_log, name="request_log"),
]

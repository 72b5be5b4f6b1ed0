"""Settings -> Audit log: every change and event, newest first, with filters. Read only."""
from datetime import datetime, time

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from .display import describe

ACTIONS = {"created": LogEntry.Action.CREATE, "changed": LogEntry.Action.UPDATE,
           "deleted": LogEntry.Action.DELETE, "event": LogEntry.Action.ACCESS}


def _day(text: str, end: bool = False):
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


def filter_entries(params) -> tuple:
    entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")
    chosen = {}
    if params.get("user", "").isdigit():
        entries = entries.filter(actor_id=int(params["user"]))
        chosen["user"] = params["user"]
    if params.get("type", "").isdigit():
        entries = entries.filter(content_type_id=int(params["type"]))
        chosen["type"] = params["type"]
    if params.get("object"):
        entries = entries.filter(object_pk=params["object"][:64])
        chosen["object"] = params["object"][:64]
    if params.get("action") in ACTIONS:
        entries = entries.filter(action=ACTIONS[params["action"]])
        chosen["action"] = params["action"]
    if params.get("q"):
        entries = entries.filter(object_repr__icontains=params["q"][:200])
        chosen["q"] = params["q"][:200]
    for name, lookup, end in (("from", "timestamp__gte", False), ("to", "timestamp__lte", True)):
        moment = _day(params.get(name, ""), end)
        if moment:
            entries = entries.filter(**{lookup: moment})
            chosen[name] = params[name]
    return entries, chosen


def audit_log(request: HttpRequest) -> HttpResponse:
    entries, chosen = filter_entries(request.GET)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    used_types = LogEntry.objects.values_list("content_type", flat=True).distinct()
    types = sorted(((ct.pk, ct.model_class()._meta.verbose_name.capitalize())
                    for ct in ContentType.objects.filter(pk__in=used_types) if ct.model_class()),
                   key=lambda pair: pair[1])
    query = "&".join(f"{k}={v}" for k, v in chosen.items())
    return render(request, "audit/audit_log.html", {
        "rows": [describe(e) for e in page], "page": page, "chosen": chosen, "query": query,
        "users": get_user_model().objects.order_by("username"), "types": types, "actions": list(ACTIONS),
    })


app_name = "audit"
urlpatterns = [path("", audit_log, name="audit_log")]

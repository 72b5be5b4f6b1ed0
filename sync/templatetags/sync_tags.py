"""Template helpers for the sync cards: the tasks of an outgoing that wait for a person's review."""
from django import template

from connections.models import Task

from ..publishing import REVIEW_PREFIX

register = template.Library()

SHOWN = 5


@register.simple_tag
def tasks_needing_review(outgoing) -> dict:
    """{"count": n, "tasks": the first few}: failed tasks whose create went unanswered (one indexed query each)."""
    tasks = Task.objects.filter(route__outgoing=outgoing, status=Task.Status.FAILED,
                                last_error__startswith=REVIEW_PREFIX).only("id", "created_at").order_by("-id")
    shown = list(tasks[:SHOWN])
    return {"count": len(shown) if len(shown) < SHOWN else tasks.count(), "tasks": shown}


@register.inclusion_tag("sync/_suggestions.html")
def transformer_suggestions() -> dict:
    """Datalists of storage and HTTP Client identifiers for the step editor's storage and client fields."""
    from clients.models import HttpClient
    from storages.models import Storage

    return {"storages": Storage.objects.order_by("identifier").values_list("identifier", "name")[:500],
            "clients": HttpClient.objects.order_by("identifier").values_list("identifier", "name")[:500]}

"""Things people do that change no field: Grant access, key rotation, imports, manual runs, retries, skips.

Each is an audit entry of its own (auditlog's "access" action) naming the event, on the object it
concerns, with the signed-in user as actor.
"""
from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType


def record(event: str, obj=None, *, actor=None, detail: str = "", **data) -> LogEntry:
    """Write one event. `obj` is what it concerns (None: the whole system, e.g. key rotation).

    Inside a request AuditlogMiddleware fills in the signed-in user as actor; outside (a management
    command, a worker) the actor stays empty and the page says "system".
    """
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if obj is None:
        from django.contrib.auth import get_user_model

        content_type, pk, text = ContentType.objects.get_for_model(get_user_model()), "", "alumio-lite"
    else:
        content_type, pk, text = ContentType.objects.get_for_model(obj), str(obj.pk), str(obj)[:200]
    return LogEntry.objects.create(
        content_type=content_type, object_pk=pk, object_id=obj.pk if obj is not None else None,
        object_repr=text, action=LogEntry.Action.ACCESS, actor=actor,
        changes_text=detail, additional_data={"event": event, **data})

"""{% history obj %}: the object's own audit trail, on its page."""
from auditlog.models import LogEntry
from django import template
from django.contrib.contenttypes.models import ContentType

from ..display import describe

register = template.Library()


@register.inclusion_tag("audit/_history.html", takes_context=True)
def history(context, obj, limit: int = 15):
    if obj is None or obj.pk is None:
        return {"rows": [], "obj": obj}
    content_type = ContentType.objects.get_for_model(obj)
    entries = (LogEntry.objects.filter(content_type=content_type, object_pk=str(obj.pk))
               .select_related("actor", "content_type").order_by("-timestamp", "-pk")[:limit])
    return {"rows": [describe(e) for e in entries], "obj": obj, "content_type": content_type,
            "request": context.get("request")}

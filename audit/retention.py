"""The audit log keeps RETENTION_DAYS_AUDIT_LOG days; the daily prune (connections.tasks.prune) calls this."""
from datetime import datetime, timedelta

from auditlog.models import LogEntry
from django.conf import settings
from django.utils import timezone


def prune(now: datetime | None = None) -> int:
    limit = (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS_AUDIT_LOG)
    deleted, _ = LogEntry.objects.filter(timestamp__lt=limit).delete()
    return deleted

"""Query-string filters shared by the list pages (Tasks, Request logs)."""
from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import QuerySet
from django.utils import timezone


def filter_by_day(queryset: QuerySet, value: str, field: str = "created_at") -> tuple[QuerySet, dict]:
    """Narrow `queryset` to one local day given as YYYY-MM-DD.

    Returns the queryset and the filter as understood: {"date": the day or "", "bad_date": True when
    a value was given that is not a date (then every date is shown)}.
    """
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        day = None
    if day:
        tz = timezone.get_current_timezone()
        queryset = queryset.filter(**{f"{field}__range": (timezone.make_aware(datetime.combine(day, time.min), tz),
                                                          timezone.make_aware(datetime.combine(day, time.max), tz))})
    return queryset, {"date": day.isoformat() if day else "", "bad_date": bool(value) and day is None}

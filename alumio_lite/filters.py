"""Query-string filters shared by the list pages (Tasks, Runs, Request logs) and id parameters."""
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


MAX_ID = 2**63 - 1  # the largest id either database stores; a bigger one can't name a row


def id_param(value: object) -> int | None:
    """A row id from a query string or form value, or None when it can't be one.

    str.isdigit() is not enough: it accepts "²" and "١" (which int() may refuse), and a
    20-digit number overflows SQLite's INTEGER and PostgreSQL's bigint with a 500.
    """
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def id_params(values) -> list[int]:
    """The values that are ids (see id_param); the others are ignored."""
    return [number for number in map(id_param, values) if number is not None]


SEARCH_LIMIT = 200  # characters of a search; SQLite refuses LIKE patterns past 50,000 bytes


def text_param(value: object, limit: int = SEARCH_LIMIT) -> str:
    """A search or name from a query string, safe to compare in SQL on both databases.

    PostgreSQL refuses NUL characters in any string it is sent, and SQLite refuses long LIKE
    patterns: both would be a 500 for what is only a search that matches nothing.
    """
    return str(value or "").replace("\x00", "").strip()[:limit]

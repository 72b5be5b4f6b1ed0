"""Keyset ("Load older") pagination for long, newest-first lists (Tasks, Request logs).

An offset page (LIMIT 50 OFFSET 500000) reads and throws away every row before it, and its
"Page 3 of 20,000" needs a COUNT of the whole selection; both grow with the table. Keyset
pagination continues below the last row shown instead (WHERE id < last), which is one index range
however deep the user goes, and needs no count.

Lists are ordered by id (newest first: ids grow with every insert) or, when filtered by a date
range, by (created_at, id) so that the created_at index serves the range.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q, QuerySet


@dataclass
class KeysetPage:
    object_list: list
    older: str  # the cursor of the next (older) page, "" at the end
    is_first: bool  # no cursor was given: this is the newest page


def _cursor(row, by_created: bool) -> str:
    return f"{row.created_at.isoformat()}~{row.pk}" if by_created else str(row.pk)


def _parse(cursor: str, by_created: bool) -> tuple[datetime | None, int] | None:
    """(created_at or None, id) from a cursor; None when it is missing or not one of ours."""
    try:
        if by_created:
            at, _, pk = cursor.partition("~")
            return datetime.fromisoformat(at), int(pk)
        return None, int(cursor)
    except (TypeError, ValueError):
        return None


def keyset_page(queryset: QuerySet, cursor: str, size: int, by_created: bool = False,
                sort: bool = False) -> KeysetPage:
    """The `size` rows after `cursor` (newest first) and the cursor of the page after them.

    A cursor that does not parse starts at the newest rows (it came from an edited address).
    `sort` (id order only) orders by id + 0, which no index holds: the database then reads the rows
    its filter's own index finds and sorts them, instead of walking the primary key back past every
    row the filter rejects. For a filter known to match few rows (connections.task_search).
    """
    order = ("-created_at", "-id") if by_created else ((F("id") + 0).desc(),) if sort else ("-id",)
    queryset = queryset.order_by(*order)
    position = _parse(cursor, by_created) if cursor else None
    if position is not None:
        at, pk = position
        if by_created:
            # The redundant created_at <= bound lets the index range start at the cursor.
            queryset = queryset.filter(created_at__lte=at).filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))
        else:
            queryset = queryset.filter(id__lt=pk)
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(object_list=rows, older=_cursor(rows[-1], by_created) if more else "", is_first=position is None)

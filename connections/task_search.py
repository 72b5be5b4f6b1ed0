"""Finding tasks by the record they carry: its id at the source (exact) or its label (prefix).

Both are index lookups (task_record_id, and task_label_order: (UPPER(label) COLLATE "C", id) on
PostgreSQL, (label COLLATE NOCASE, id) on SQLite; migrations 0005 and 0010), so a search stays fast
at millions of tasks. A match anywhere inside a label would read every row, so it is not offered.

One search cannot be listed newest first quickly however it is planned: a prefix many labels share
but none of the newest (last year's order numbers "O2025-" at ten million tasks). Newest first, the
database either walks back from the newest task until it has found a page (PostgreSQL's choice:
over a minute at 10M tasks, 1.1M matches all older than 8M others) or reads and sorts every match
(seconds). So the list reads newest first only when two cheap reads say it can (`newest_first_page`:
few matches, or a page of them among the newest ids), and otherwise shows the matching labels in label
order (`label_order_page`): the same index read from the prefix on, a page at a time, whatever the
number of matches. With a date filter the newest-first read is tried for TASK_SEARCH_NEWEST_FIRST_MS
instead. The whole search is bounded by TASK_SEARCH_TIMEOUT_MS (other filters can still make the
label-ordered read long).
"""
from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Lookup, Max, Q, Value
from django.db.models.functions import Collate, Left, Upper
from django.db.models.lookups import Exact

from alumio_lite.keyset import KeysetPage, keyset_page


def label_key():
    """The label as task_label_order orders it: upper-cased, compared byte by byte (C) on PostgreSQL,
    so one btree serves the prefix match and the order; case-blind on SQLite."""
    if connection.vendor == "postgresql":
        return Collate(Upper("label"), "C")
    return Collate(F("label"), "NOCASE")


class _UpperPrefix(Lookup):
    """`key LIKE UPPER('text%')`: Django's istartswith, on the C-collated key the index holds.

    Upper-cased by the database, as istartswith does, so the match is the same for any letter."""

    lookup_name = "upper_prefix"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} LIKE UPPER(%s)", [*lhs_params, connection.ops.prep_for_like_query(self.rhs) + "%"]


def label_starts_with(text: str):
    if connection.vendor == "postgresql":
        return _UpperPrefix(label_key(), text)
    # SQLite's LIKE is case-blind, and is served by the NOCASE index when written on the bare column.
    return Q(label__istartswith=text)


def matching(text: str) -> Q:
    """Tasks whose record id is `text`, or whose label starts with it (any case)."""
    return Q(record_id=text) | Q(label_starts_with(text))


def _parse_label_cursor(cursor: str) -> tuple[int, str] | None:
    pk, sep, key = cursor.partition("~")
    return (int(pk), key) if sep and pk.isdigit() else None


def label_ordered(tasks, text: str, cursor: str = ""):
    """`tasks` whose label starts with `text`, in label order (then by id), after `cursor` ("id~key" of
    the last row shown; one not of ours is ignored): one range of task_label_order, from the prefix
    or the cursor on."""
    tasks = tasks.annotate(label_key=label_key()).filter(label_starts_with(text)).order_by("label_key", "id")
    position = _parse_label_cursor(cursor) if cursor else None
    if position is not None:
        pk, key = position
        # The redundant key >= bound lets the index range start at the cursor.
        tasks = tasks.filter(label_key__gte=key).filter(Q(label_key__gt=key) | Q(label_key=key, id__gt=pk))
    return tasks


def label_order_page(tasks, text: str, cursor: str, size: int) -> KeysetPage:
    """A page of `label_ordered`, stopping after `size` rows: as fast with a million matches as with ten."""
    rows = list(label_ordered(tasks, text, cursor)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(object_list=rows, older=f"{rows[-1].pk}~{rows[-1].label_key}" if more else "",
                      is_first=not cursor or _parse_label_cursor(cursor) is None)


def _window_match(text: str) -> Q:
    """`matching(text)` in a form task_label_order cannot serve (LEFT(UPPER(label), n) = UPPER(text): the
    same match), so that PostgreSQL reads a window of ids by walking the primary key back, stopping at a
    page, rather than reading every label match in the window from the index and sorting them (it
    expects few: 10,000 recent matches at 2M tasks took 38-106 ms that way, against 0.2 ms walking)."""
    if connection.vendor == "postgresql":
        return Q(record_id=text) | Q(Exact(Left(Upper("label"), len(text)), Upper(Value(text))))
    return matching(text)


def newest_first_page(tasks, text: str, cursor: str, size: int) -> KeysetPage | None:
    """The newest-first page of `tasks` (the other filters) matching `text` below `cursor` (an id),
    when it is cheap to read; None when the matches are many and none among the newest tasks, which
    only the label order lists quickly (`label_order_page`).

    1. The matches (record id or label) are counted through their indexes, stopping past
       TASK_SEARCH_SORT_CAP (2,000): if fewer, all of them are read from the indexes and sorted by id
       (at most the cap's rows), rather than walking the primary key back past rows that do not match.
    2. Else the newest TASK_SEARCH_PROBE_WINDOW (10,000) ids below the cursor: one primary-key range,
       stopping at a page. If they hold a page of matches, that page is the newest-first one (every
       row outside the window is older).
    Counting first keeps a record id or a rare label from paying for the window (8-25 ms when it holds no match).
    """
    if not _more_matches_than(tasks.model.objects.all(), text, settings.TASK_SEARCH_SORT_CAP):
        return keyset_page(tasks.filter(matching(text)), cursor, size, sort=True)
    top = int(cursor) if cursor.isdigit() else None
    if top is None:
        top = (tasks.model.objects.aggregate(newest=Max("id"))["newest"] or 0) + 1
    low = top - settings.TASK_SEARCH_PROBE_WINDOW
    page = keyset_page(tasks.filter(_window_match(text), id__gte=low), str(top), size)
    rows = page.object_list
    whole = low <= 1  # the window held every task below the cursor (ids start at 1)
    if len(rows) == size or whole:
        # A full page without its next row in the window: there may be older matches, so offer more.
        older = page.older or ("" if whole else str(rows[-1].pk))
        return KeysetPage(object_list=rows, older=older, is_first=not cursor.isdigit())
    return None


def _more_matches_than(tasks, text: str, cap: int) -> bool:
    """Whether more than `cap` tasks match `text`, counting at most cap + 1 of each kind from its index.

    The label matches are counted in label order so that task_label_order serves the count: unordered,
    PostgreSQL may count by scanning the table until it has cap + 1 (guessing they are spread evenly)."""
    by_label = label_ordered(tasks, text).values("id")[: cap + 1].count()
    return by_label > cap or by_label + tasks.filter(record_id=text).values("id")[: cap + 1].count() > cap


# The label index per database (also in migration 0010). SQLite loses it whenever a later migration
# rebuilds the task table, so summaries.apps puts it back after every migrate.
LABEL_INDEX = {"postgresql": '(UPPER(label) COLLATE "C"), id', "sqlite": "label COLLATE NOCASE, id"}


def ensure_label_index(connection) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("CREATE INDEX IF NOT EXISTS task_label_order ON connections_task "
                           f"({LABEL_INDEX['sqlite']})")


class TooBroad(Exception):
    """The search was stopped at its time budget: too many (old) matches to list newest first."""


_QUERY_CANCELED = "57014"


def within_budget(read, milliseconds: int | None = None):
    """read() with PostgreSQL's statement_timeout at `milliseconds` (TASK_SEARCH_TIMEOUT_MS) for its
    queries; TooBroad if stopped."""
    if connection.vendor != "postgresql":
        return read()
    budget = settings.TASK_SEARCH_TIMEOUT_MS if milliseconds is None else milliseconds
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout'), "
                           "set_config('statement_timeout', %s, true)", [str(budget)])
            before = cursor.fetchone()[0]
            result = read()
            # Back as it was for the rest of an enclosing transaction (a stopped one is rolled back anyway).
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [before])
            return result
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == _QUERY_CANCELED:
            raise TooBroad from exc
        raise

"""Finding tasks by the record they carry: its id at the source (exact) or its label (prefix).

Both are index lookups (migration 0005: task_record_id, and task_label_search, an index on
UPPER(label) with text_pattern_ops on PostgreSQL and on label COLLATE NOCASE on SQLite, which
serve Django's case-insensitive prefix match on each), so a search stays fast at millions of
tasks. A match anywhere inside a label would read every row, so it is not offered.

One search stays slow however it is planned: a prefix many labels share but none of the newest
(last year's order numbers "O2025-" at ten million tasks). Newest first, the database either walks
back from the newest task until it has found a page (PostgreSQL's choice: over a minute at 10M
tasks, 1.1M matches all older than 8M others) or reads every match (seconds). `within_budget`
stops such a search on PostgreSQL after TASK_SEARCH_TIMEOUT_MS and the list asks for more of the
label, instead of holding a connection and a web worker for a minute.
"""
from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q


def matching(text: str) -> Q:
    """Tasks whose record id is `text`, or whose label starts with it (any case)."""
    return Q(record_id=text) | Q(label__istartswith=text)


# The label index per database (also in migration 0005). SQLite loses it whenever a later migration
# rebuilds the task table, so summaries.apps puts it back after every migrate.
LABEL_INDEX = {"postgresql": "UPPER(label) text_pattern_ops", "sqlite": "label COLLATE NOCASE"}


def ensure_label_index(connection) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("CREATE INDEX IF NOT EXISTS task_label_search ON connections_task "
                           f"({LABEL_INDEX['sqlite']})")


class TooBroad(Exception):
    """The search was stopped at its time budget: too many (old) matches to list newest first."""


_QUERY_CANCELED = "57014"


def within_budget(read):
    """read() with PostgreSQL's statement_timeout at TASK_SEARCH_TIMEOUT_MS for its queries; TooBroad if stopped."""
    if connection.vendor != "postgresql":
        return read()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout'), "
                           "set_config('statement_timeout', %s, true)", [str(settings.TASK_SEARCH_TIMEOUT_MS)])
            before = cursor.fetchone()[0]
            result = read()
            # Back as it was for the rest of an enclosing transaction (a stopped one is rolled back anyway).
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [before])
            return result
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == _QUERY_CANCELED:
            raise TooBroad from exc
        raise

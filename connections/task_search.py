"""Finding tasks by the record they carry: its id at the source (exact) or its label (prefix).

Both are index lookups (migration 0005: task_record_id, and task_label_search, an index on
UPPER(label) with text_pattern_ops on PostgreSQL and on label COLLATE NOCASE on SQLite, which
serve Django's case-insensitive prefix match on each), so a search stays fast at millions of
tasks. A match anywhere inside a label would read every row, so it is not offered.
"""
from __future__ import annotations

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

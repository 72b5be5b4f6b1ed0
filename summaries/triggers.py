"""The triggers that keep summaries.models up to date, per database (installed by migration 0001).

Decrements on SQLite only UPDATE an existing count (never create a negative row): a table
emptied in any order (Django's test flush deletes table by table) then leaves no stray count.
"""
from __future__ import annotations

TASK = "connections_task"
LOG = "clients_requestlog"
ERROR = "(status IS NULL OR status >= 400)"  # the chart's "failed": an error answer or none at all

SQLITE = [
    f"""CREATE TRIGGER summaries_task_insert AFTER INSERT ON {TASK} BEGIN
        INSERT INTO summaries_taskcount (route_id, status, "count") VALUES (NEW.route_id, NEW.status, 1)
        ON CONFLICT (route_id, status) DO UPDATE SET "count" = "count" + 1;
    END""",
    f"""CREATE TRIGGER summaries_task_update AFTER UPDATE OF status, route_id ON {TASK}
    WHEN OLD.status IS NOT NEW.status OR OLD.route_id IS NOT NEW.route_id BEGIN
        UPDATE summaries_taskcount SET "count" = "count" - 1 WHERE route_id = OLD.route_id AND status = OLD.status;
        INSERT INTO summaries_taskcount (route_id, status, "count") VALUES (NEW.route_id, NEW.status, 1)
        ON CONFLICT (route_id, status) DO UPDATE SET "count" = "count" + 1;
    END""",
    f"""CREATE TRIGGER summaries_task_delete AFTER DELETE ON {TASK} BEGIN
        UPDATE summaries_taskcount SET "count" = "count" - 1 WHERE route_id = OLD.route_id AND status = OLD.status;
    END""",
    f"""CREATE TRIGGER summaries_requestlog_insert AFTER INSERT ON {LOG} BEGIN
        INSERT INTO summaries_requestloghour (hour, total, errors)
        VALUES (strftime('%Y-%m-%d %H:00:00', NEW.created_at), 1, (NEW.status IS NULL OR NEW.status >= 400))
        ON CONFLICT (hour) DO UPDATE SET total = total + 1, errors = errors + excluded.errors;
    END""",
    f"""CREATE TRIGGER summaries_requestlog_delete AFTER DELETE ON {LOG} BEGIN
        UPDATE summaries_requestloghour SET total = total - 1,
            errors = errors - (OLD.status IS NULL OR OLD.status >= 400)
        WHERE hour = strftime('%Y-%m-%d %H:00:00', OLD.created_at);
    END""",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in (
    "summaries_task_insert", "summaries_task_update", "summaries_task_delete",
    "summaries_requestlog_insert", "summaries_requestlog_delete")]

# PostgreSQL: statement-level triggers see every changed row at once (transition tables) and
# append one delta per (route, status) or hour that changed: no count row is locked by writers.
_HOUR = "date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
_PG_FUNCTIONS = {
    "summaries_task_inserted": """
        INSERT INTO summaries_taskcountdelta (route_id, status, delta)
        SELECT route_id, status, count(*) FROM summaries_new GROUP BY route_id, status;""",
    "summaries_task_deleted": """
        INSERT INTO summaries_taskcountdelta (route_id, status, delta)
        SELECT route_id, status, -count(*) FROM summaries_old GROUP BY route_id, status;""",
    "summaries_task_updated": """
        INSERT INTO summaries_taskcountdelta (route_id, status, delta)
        SELECT route_id, status, sum(moved) FROM (
            SELECT route_id, status, 1 AS moved FROM summaries_new
            UNION ALL SELECT route_id, status, -1 FROM summaries_old) AS changes
        GROUP BY route_id, status HAVING sum(moved) <> 0;""",
    "summaries_requestlog_inserted": f"""
        INSERT INTO summaries_requestloghourdelta (hour, total, errors)
        SELECT {_HOUR}, count(*), count(*) FILTER (WHERE {ERROR}) FROM summaries_new GROUP BY 1;""",
    "summaries_requestlog_deleted": f"""
        INSERT INTO summaries_requestloghourdelta (hour, total, errors)
        SELECT {_HOUR}, -count(*), -count(*) FILTER (WHERE {ERROR}) FROM summaries_old GROUP BY 1;""",
}
_PG_TRIGGERS = [
    # trigger (= function) name, event, table, transition tables
    ("summaries_task_inserted", "INSERT", TASK, "NEW TABLE AS summaries_new"),
    ("summaries_task_updated", "UPDATE", TASK, "OLD TABLE AS summaries_old NEW TABLE AS summaries_new"),
    ("summaries_task_deleted", "DELETE", TASK, "OLD TABLE AS summaries_old"),
    ("summaries_requestlog_inserted", "INSERT", LOG, "NEW TABLE AS summaries_new"),
    ("summaries_requestlog_deleted", "DELETE", LOG, "OLD TABLE AS summaries_old"),
]
POSTGRESQL = [
    f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"
    for name, body in _PG_FUNCTIONS.items()
] + [
    f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
    for name, event, table, tables in _PG_TRIGGERS
]
POSTGRESQL_DROP = [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, _e, table, _t in _PG_TRIGGERS] + [
    f"DROP FUNCTION IF EXISTS {name}()" for name in _PG_FUNCTIONS]

# Fill the counts from the tables as they are, in the transaction that creates the triggers (which
# holds writers off the task table on PostgreSQL until it commits, so nothing is counted twice or missed).
# The chart shows 24 hours: two days of request logs are enough.
FILL = {
    "sqlite": [
        f"""INSERT INTO summaries_taskcount (route_id, status, "count")
            SELECT route_id, status, count(*) FROM {TASK} GROUP BY route_id, status""",
        f"""INSERT INTO summaries_requestloghour (hour, total, errors)
            SELECT strftime('%Y-%m-%d %H:00:00', created_at), count(*), sum({ERROR}) FROM {LOG}
            WHERE created_at >= strftime('%Y-%m-%d %H:00:00', 'now', '-2 days') GROUP BY 1""",
    ],
    "postgresql": [
        f"""INSERT INTO summaries_taskcount (route_id, status, "count")
            SELECT route_id, status, count(*) FROM {TASK} GROUP BY route_id, status""",
        f"""INSERT INTO summaries_requestloghour (hour, total, errors)
            SELECT {_HOUR}, count(*), count(*) FILTER (WHERE {ERROR}) FROM {LOG}
            WHERE created_at >= date_trunc('hour', now()) - interval '2 days' GROUP BY 1""",
    ],
}
INSTALL = {"sqlite": SQLITE, "postgresql": POSTGRESQL}
UNINSTALL = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}


def install(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in INSTALL:
        raise NotImplementedError(f"summaries: no triggers for {vendor}; add them to summaries/triggers.py")
    for statement in INSTALL[vendor] + FILL[vendor]:
        schema_editor.execute(statement, params=None)


def uninstall(schema_editor) -> None:
    for statement in UNINSTALL.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def missing(connection) -> list[str]:
    """SQLite: the triggers not in the database. A table rebuilt by a later migration (SQLite's way
    of altering a column) loses its triggers and indexes, so every migrate checks (apps.py)."""
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in (s.removeprefix("DROP TRIGGER IF EXISTS ") for s in SQLITE_DROP) if name not in present]


def restore(connection) -> list[str]:
    """Put back the triggers a table rebuild dropped; returns their names. The caller reconciles."""
    gone = missing(connection)
    if gone:
        with connection.cursor() as cursor:
            for statement in SQLITE:
                name = statement.split()[2]
                if name in gone:
                    cursor.execute(statement)
    return gone

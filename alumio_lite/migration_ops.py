"""Migration operations that are safe on a big, busy table.

On PostgreSQL a plain CREATE INDEX blocks every write to the table until the index is built
(minutes at ten million tasks, with the workers stalled). These build and drop indexes
CONCURRENTLY there, so workers keep writing meanwhile; on SQLite they are the ordinary
operations (one writer at a time anyway). A migration using them must set `atomic = False`,
because PostgreSQL refuses CONCURRENTLY inside a transaction.

Both are idempotent on PostgreSQL: a concurrent build that was interrupted leaves an invalid
index behind, so the build first drops any index of the same name.
"""
from __future__ import annotations

from django.db import migrations


def _postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def _drop_concurrently(schema_editor, name: str) -> None:
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")


class AddIndexOnline(migrations.AddIndex):
    """AddIndex, built without blocking writers on PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _drop_concurrently(schema_editor, self.index.name)
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not _postgres(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        _drop_concurrently(schema_editor, self.index.name)


class RemoveIndexOnline(migrations.RemoveIndex):
    """RemoveIndex, dropped without blocking readers and writers on PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        _drop_concurrently(schema_editor, self.name)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not _postgres(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        index = from_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
        schema_editor.add_index(model, index, concurrently=True)


class CreateIndexSQL(migrations.RunSQL):
    """An index Django's Index cannot express the same way on both databases (an operator class on
    PostgreSQL, a collation on SQLite). `columns` maps a database vendor to the indexed expression."""

    def __init__(self, name: str, table: str, columns: dict[str, str]):
        self.index_name, self.table, self.columns = name, table, columns
        super().__init__(sql="", reverse_sql="")

    def deconstruct(self):
        return self.__class__.__name__, [], {"name": self.index_name, "table": self.table, "columns": self.columns}

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        vendor = schema_editor.connection.vendor
        if vendor not in self.columns:
            return
        quote = schema_editor.quote_name
        if vendor == "postgresql":
            _drop_concurrently(schema_editor, self.index_name)
            schema_editor.execute(f"CREATE INDEX CONCURRENTLY {quote(self.index_name)} ON {quote(self.table)} "
                                  f"({self.columns[vendor]})")
        else:
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {quote(self.index_name)} ON {quote(self.table)} "
                                  f"({self.columns[vendor]})")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        concurrently = " CONCURRENTLY" if _postgres(schema_editor) else ""
        schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {schema_editor.quote_name(self.index_name)}")

    def describe(self):
        return f"Create index {self.index_name} on {self.table}"


class DropIndexSQL(CreateIndexSQL):
    """The reverse of CreateIndexSQL: drops the index (CONCURRENTLY on PostgreSQL), and builds it
    again from `columns` when migrated backwards."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        super().database_backwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"Drop index {self.index_name} on {self.table}"


class AddFieldOnline(migrations.AddField):
    """AddField of a NOT NULL column with a constant `db_default`, without copying the table on SQLite.

    Django rebuilds a SQLite table to add a NOT NULL column (a copy of every row, holding the
    database's write lock meanwhile); SQLite's own ALTER TABLE ADD COLUMN takes a constant default
    and is instant. PostgreSQL 11+ already adds such a column without rewriting the table.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "sqlite":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        field = model._meta.get_field(self.name)
        default = schema_editor.quote_value(getattr(field.db_default, "value", field.db_default))
        schema_editor.execute(
            f"ALTER TABLE {schema_editor.quote_name(model._meta.db_table)} ADD COLUMN "
            f"{schema_editor.quote_name(field.column)} {field.db_type(schema_editor.connection)} "
            f"DEFAULT {default} NOT NULL")


def drop_column_indexes(table: str, column: str):
    """A RunPython function dropping the plain (non-unique) indexes on exactly one column.

    For a field losing db_index=True: Django's AlterField would rebuild the whole table on SQLite.
    Finds the indexes by introspection, so the generated names (and PostgreSQL's extra "_like"
    index of a text column) need not be guessed.
    """

    def drop(apps, schema_editor):
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, table)
        for name, info in constraints.items():
            if info["index"] and not info["unique"] and not info["primary_key"] and info["columns"] == [column]:
                if _postgres(schema_editor):
                    _drop_concurrently(schema_editor, name)
                else:
                    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    return drop

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SummariesConfig(AppConfig):
    name = "summaries"
    verbose_name = "Summaries"

    def ready(self) -> None:
        post_migrate.connect(_after_migrate, sender=self)


def _after_migrate(sender, using="default", **kwargs) -> None:
    """After every migrate: put back what a SQLite table rebuild (a later AlterField) dropped, and
    correct the counts if changes went uncounted meanwhile."""
    from django.db import connections

    from connections.task_search import ensure_label_index

    from . import maintenance, triggers

    connection = connections[using]
    tables = set(connection.introspection.table_names())
    if "summaries_taskcount" not in tables or "connections_task" not in tables:
        return
    ensure_label_index(connection)
    if triggers.restore(connection):
        maintenance.reconcile()

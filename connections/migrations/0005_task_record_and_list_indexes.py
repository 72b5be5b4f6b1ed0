"""Tasks carry their record's id and label; indexes for every list filter, newest first.

Safe on a big table: the new columns have a constant default (no rewrite on PostgreSQL 11+ or
SQLite), indexes are built CONCURRENTLY on PostgreSQL (non-atomic migration), and the indexes
they replace are dropped only after the new ones exist.
"""
import django.db.models.deletion
from django.db import migrations, models

from alumio_lite.migration_ops import (
    AddFieldOnline,
    AddIndexOnline,
    CreateIndexSQL,
    RemoveIndexOnline,
    drop_column_indexes,
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('connections', '0004_incoming_webhook_subscriber'),
    ]

    operations = [
        AddFieldOnline(
            model_name='task',
            name='label',
            field=models.CharField(blank=True, db_default='', default='', max_length=200),
        ),
        AddFieldOnline(
            model_name='task',
            name='record_id',
            field=models.CharField(blank=True, db_default='', default='', max_length=200, verbose_name='Record id'),
        ),
        AddIndexOnline(
            model_name='task',
            index=models.Index(fields=['route', 'id'], name='task_route_newest'),
        ),
        AddIndexOnline(
            model_name='task',
            index=models.Index(fields=['status', 'id'], name='task_status_newest'),
        ),
        AddIndexOnline(
            model_name='task',
            index=models.Index(fields=['run', 'id'], name='task_run_newest'),
        ),
        AddIndexOnline(
            model_name='task',
            index=models.Index(fields=['status', 'updated_at'], name='task_status_updated'),
        ),
        AddIndexOnline(
            model_name='task',
            index=models.Index(fields=['record_id'], name='task_record_id'),
        ),
        # Case-insensitive prefix search of labels (connections.task_search): Django's istartswith is
        # UPPER(label) LIKE UPPER('abc%') on PostgreSQL and label LIKE 'abc%' (case-blind) on SQLite.
        CreateIndexSQL(
            name='task_label_search', table='connections_task',
            columns={'postgresql': 'UPPER(label) text_pattern_ops', 'sqlite': 'label COLLATE NOCASE'},  # replaced in 0010
        ),
        # Now redundant: (route, status, id) and (status, id) / (run, id) lead with the same columns.
        RemoveIndexOnline(
            model_name='task',
            name='connections_route_i_4bfeb3_idx',
        ),
        migrations.AlterModelOptions(
            name='task',
            options={'ordering': ['-id']},
        ),
        # The single-column indexes on route, run and status are covered by the composite ones above. Dropped
        # by name rather than by AlterField, which would rebuild the whole table on SQLite.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='task',
                    name='route',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='tasks', to='connections.route'),
                ),
                migrations.AlterField(
                    model_name='task',
                    name='run',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='tasks', to='connections.run'),
                ),
                migrations.AlterField(
                    model_name='task',
                    name='status',
                    field=models.CharField(choices=[('new', 'New'), ('processing', 'Processing'), ('finished', 'Finished'), ('failed', 'Failed'), ('skipped', 'Skipped'), ('waiting', 'Waiting')], default='new', max_length=12),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_column_indexes('connections_task', 'route_id'), migrations.RunPython.noop),
                migrations.RunPython(drop_column_indexes('connections_task', 'run_id'), migrations.RunPython.noop),
                migrations.RunPython(drop_column_indexes('connections_task', 'status'), migrations.RunPython.noop),
            ],
        ),
    ]

"""A task's request logs in sending order (the task page), from one partial index: fetch logs carry no
task, and on SQLite a table of mostly such logs made the plain task_id index look useless to the
planner. Built CONCURRENTLY on PostgreSQL, so workers keep logging meanwhile."""
from django.db import migrations, models

from alumio_lite.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('clients', '0006_rate_budget'),
        ('connections', '0010_task_label_order'),
    ]

    operations = [
        AddIndexOnline(
            model_name='requestlog',
            index=models.Index(condition=models.Q(('task__isnull', False)), fields=['task', 'created_at', 'id'], name='requestlog_task_order'),
        ),
    ]

"""Who holds a task or run (host:pid), so a dead process's work comes back at once; run resumes.

Both claimed_by columns are nullable without a default: an instant ALTER TABLE on both databases.
"""

from django.db import migrations, models

from alumio_lite.migration_ops import AddFieldOnline


class Migration(migrations.Migration):

    dependencies = [
        ('connections', '0006_route_deletion_started_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='run',
            name='claimed_by',
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        AddFieldOnline(  # no copy of the runs table on SQLite
            model_name='run',
            name='resumes',
            field=models.PositiveSmallIntegerField(default=0, db_default=0),
        ),
        migrations.AddField(
            model_name='task',
            name='claimed_by',
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
    ]

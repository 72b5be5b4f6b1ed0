"""WebhookRequest.webhook loses its own index: webhook_request_list (webhook, -received_at) leads
with the same column, so it serves every look-up by webhook (and the foreign key's checks), and
each request the endpoint stores wrote one index entry more than it needs, inside its commit.

Safe on a big, busy table: dropped CONCURRENTLY on PostgreSQL (non-atomic migration), by name
on SQLite instead of Django's AlterField, which would rebuild the whole table there.
"""
import django.db.models.deletion
from django.db import migrations, models

from alumio_lite.migration_ops import drop_column_indexes


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('webhooks', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='webhookrequest',
                    name='webhook',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name='requests', to='webhooks.webhook'),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_column_indexes('webhooks_webhookrequest', 'webhook_id'),
                                     migrations.RunPython.noop),
            ],
        ),
    ]

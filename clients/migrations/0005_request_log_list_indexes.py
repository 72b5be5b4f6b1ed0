"""Indexes for every filter of the Request logs list, newest first; the unsuccessful logs (3xx,
4xx, 5xx, errors: a small slice of a large table) get a partial index. Built CONCURRENTLY on PostgreSQL."""
from django.db import migrations, models

from alumio_lite.migration_ops import AddIndexOnline, RemoveIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('clients', '0004_token_lease_and_refusals'),
    ]

    operations = [
        AddIndexOnline(
            model_name='requestlog',
            index=models.Index(fields=['client', 'id'], name='requestlog_client_newest'),
        ),
        AddIndexOnline(
            model_name='requestlog',
            index=models.Index(condition=models.Q(('status__gte', 300), ('status__isnull', True), models.Q(('error', ''), _negated=True), _connector='OR'), fields=['id'], name='requestlog_unsuccessful'),
        ),
        RemoveIndexOnline(
            model_name='requestlog',
            name='clients_req_client__37cb25_idx',
        ),
        RemoveIndexOnline(
            model_name='requestlog',
            name='clients_req_status_413994_idx',
        ),
        migrations.AlterModelOptions(
            name='requestlog',
            options={'ordering': ['-id']},
        ),
    ]

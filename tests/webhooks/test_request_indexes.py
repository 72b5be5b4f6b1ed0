"""What each stored request writes besides its row: no index on webhook_id alone (migration 0002),
since the list index (webhook, -received_at) leads with that column and serves its look-ups."""
from __future__ import annotations

import pytest
from django.db import connection

from webhooks.models import WebhookRequest


@pytest.mark.django_db
def test_the_requests_table_has_no_index_of_webhook_id_alone_but_one_leading_with_it():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, WebhookRequest._meta.db_table)
    indexes = {name: info["columns"] for name, info in constraints.items() if info["index"]}
    assert [name for name, columns in indexes.items() if columns == ["webhook_id"]] == []
    assert indexes["webhook_request_list"] == ["webhook_id", "received_at"]

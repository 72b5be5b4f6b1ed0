"""The writers' batch statement: prepared once per batch size on PostgreSQL, the values bound by the
server, and what it stores is what the request gave (committer._store / _execute_prepared).
"""
from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from django.db import connection
from django.utils import timezone

from webhooks.committer import Pending, _store
from webhooks.models import Webhook, WebhookRequest

BODY = bytes(range(256)) * 8 + b'{"a": "\\u00e9 \xc3\xa9"}'  # every byte value, as signed: stored raw


def make() -> Webhook:
    return Webhook.objects.create(name="prepared", identifier="prepared")


def pending(webhook: Webhook, marker: str, version: dt.datetime | None = None, **row) -> Pending:
    values = {"webhook_id": webhook.id, "received_at": timezone.now(), "source_ip": "2001:db8::7",
              "content_type": "application/json", "headers": {"X-Marker": marker, "Nested": {"é": [1, None]}},
              "query_string": f"n={marker}", "status": WebhookRequest.Status.RECEIVED, "http_status": 202,
              "validator_result": "accepted", "size": len(BODY), "body": BODY, **row}
    return Pending(values, version or webhook.updated_at)


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "client-bound"])
def test_a_batch_stores_every_value_as_given_and_skips_a_stale_version(transactional_db, prepared):
    webhook = make()
    given = [pending(webhook, "a"), pending(webhook, "b", source_ip=None, headers={})]
    assert _store(given, prepared=prepared) == given
    stale = pending(webhook, "stale", version=webhook.updated_at - dt.timedelta(seconds=1))
    assert _store([stale], prepared=prepared) == []
    rows = {r.query_string: r for r in WebhookRequest.objects.all()}
    assert set(rows) == {"n=a", "n=b"}
    a, b = rows["n=a"], rows["n=b"]
    assert bytes(a.body) == BODY and a.size == len(BODY)
    assert a.headers == {"X-Marker": "a", "Nested": {"é": [1, None]}} and b.headers == {}
    assert ipaddress.ip_address(a.source_ip) == ipaddress.ip_address("2001:db8::7") and b.source_ip is None
    assert a.received_at == given[0].row["received_at"]
    assert (a.status, a.http_status, a.validator_result) == ("received", 202, "accepted")
    # The fields the row leaves out take their defaults.
    assert (a.entities, a.attempts, a.runs, a.done_incomings, a.claim_token, a.claimed_at) == (0, 0, {}, [], "", None)


def test_on_postgresql_each_batch_size_is_prepared_once(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are the PostgreSQL writers' (SQLite binds in the client)")
    webhook = make()
    _store([pending(webhook, "one")], prepared=True)
    after_one = [s for s in prepared_statements() if "INSERT INTO" in s]
    assert len(after_one) == 1  # the writer's statement is prepared on its connection
    _store([pending(webhook, "two")], prepared=True)
    assert [s for s in prepared_statements() if "INSERT INTO" in s] == after_one  # the same size: reused
    _store([pending(webhook, "three"), pending(webhook, "four")], prepared=True)
    assert len([s for s in prepared_statements() if "INSERT INTO" in s]) == 2  # another size: its own
    assert WebhookRequest.objects.count() == 4

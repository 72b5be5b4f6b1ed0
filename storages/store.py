"""Reading and writing storage entries: the one place that touches StorageEntry rows.

Writes are upserts on the (storage, key) constraint, so saving the same key twice keeps one entry.
Everything here is synchronous database work; callers decide the transaction (the engine saves a
page's storage writes in the same transaction as the page's tasks, see connections.transformers.context).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .models import Storage, StorageChange, StorageEntry

MISSING = object()
KEY_LIMIT = StorageEntry._meta.get_field("key").max_length


class BadKey(ValueError):
    """A key that cannot be stored (empty or too long)."""


def digest(value: Any) -> str:
    """A stable fingerprint of a JSON value: key order and spacing do not matter."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_key(key: Any) -> str:
    text = "" if key is None else key if isinstance(key, str) else json.dumps(key) if isinstance(key, dict | list) \
        else str(key)
    if not text:
        raise BadKey("the storage key is empty; check that the key template reads a key every entity has.")
    if len(text) > KEY_LIMIT:
        raise BadKey(f"the storage key is {len(text)} characters long; keys hold at most {KEY_LIMIT}.")
    return text


@lru_cache(maxsize=4)
def _select(column: str) -> str:
    q = connection.ops.quote_name
    return (f"SELECT {q(column)} FROM {q(StorageEntry._meta.db_table)} "
            f"WHERE {q('storage_id')} = %s AND {q('key')} = %s")


def _one(column: str, storage: Storage, key: str) -> tuple | None:
    # Plain SQL on the (storage, key) unique index: a chain asks once per entity, and building the
    # ORM query cost more than the lookup itself.
    with connection.cursor() as cursor:
        cursor.execute(_select(column), [storage.pk, key])
        return cursor.fetchone()


def get(storage: Storage, key: str) -> Any:
    """The value at key, or MISSING."""
    row = _one("value", storage, key)
    if row is None:
        return MISSING
    field = StorageEntry._meta.get_field("value")
    return field.from_db_value(row[0], None, connection)


def get_digest(storage: Storage, key: str) -> str | None:
    """The digest of the value at key (None when absent): cheaper than the value for comparisons."""
    row = _one("digest", storage, key)
    return row[0] if row else None


def save_many(storage: Storage, items: Iterable[tuple[str, Any]], source: str = "") -> int:
    """Insert or replace entries; returns how many were written. Logs changes when the storage asks for it."""
    now = timezone.now()
    latest: dict[str, Any] = {}
    for key, value in items:  # the last save of a key wins, as if they had been written one by one
        latest[check_key(key)] = value
    if not latest:
        return 0
    rows = [StorageEntry(storage=storage, key=key, value=value, digest=digest(value), created_at=now,
                         updated_at=now) for key, value in latest.items()]
    with transaction.atomic():
        StorageEntry.objects.bulk_create(
            rows, batch_size=500, update_conflicts=True, unique_fields=["storage", "key"],
            update_fields=["value", "digest", "updated_at"])
        if storage.log_changes:
            StorageChange.objects.bulk_create(
                [StorageChange(storage=storage, key=k, action=StorageChange.Action.SAVED, value=v, source=source[:200],
                               created_at=now) for k, v in latest.items()], batch_size=500)
    return len(rows)


def save(storage: Storage, key: str, value: Any, source: str = "") -> None:
    save_many(storage, [(key, value)], source=source)


def delete(storage: Storage, keys: Iterable[str], source: str = "") -> int:
    keys = list(keys)
    with transaction.atomic():
        deleted, _ = StorageEntry.objects.filter(storage=storage, key__in=keys).delete()
        if storage.log_changes and deleted:
            StorageChange.objects.bulk_create(
                [StorageChange(storage=storage, key=k, action=StorageChange.Action.DELETED, source=source[:200])
                 for k in keys])
    return deleted


PRUNE_BATCH = 5000  # rows per DELETE: a big storage is pruned in short transactions


def prune(now=None) -> dict[str, int]:
    """Delete entries older than their storage's time to live; returns {storage identifier: entries deleted}."""
    now = now or timezone.now()
    pruned: dict[str, int] = {}
    for storage in Storage.objects.filter(time_to_live_days__isnull=False):
        limit = storage.expiry_limit(now)
        total = 0
        while True:
            ids = list(StorageEntry.objects.filter(storage=storage, updated_at__lt=limit)
                       .order_by("updated_at").values_list("pk", flat=True)[:PRUNE_BATCH])
            if not ids:
                break
            with transaction.atomic():
                if storage.log_changes:
                    keys = StorageEntry.objects.filter(pk__in=ids).values_list("key", flat=True)
                    StorageChange.objects.bulk_create(
                        [StorageChange(storage=storage, key=k, action=StorageChange.Action.PRUNED, source="prune")
                         for k in keys])
                total += StorageEntry.objects.filter(pk__in=ids).delete()[0]
        if total:
            pruned[storage.identifier] = total
    return pruned

"""Where the budget's state lives, shared by every process: Redis, or the database.

Both do the same thing: read the state, compute the change (clients.rate_budget.pacing), and
write it only if nobody else wrote in between (compare-and-set), else read again. Nothing is
locked while a caller waits for its slot or talks to the platform:

- Redis (when the Celery broker is Redis): one hash per client with a `version` field. Two round
  trips a change: HGETALL + TIME in one pipeline, then a small script that writes only if the
  version is still the one read (WATCH / MULTI took four: bench_budget_cost measured each round
  trip on a loaded machine). The time is Redis' own, so workers on several hosts agree on it.
- Database (SQLite with the filesystem broker, or PostgreSQL): one `RateBudget` row per client,
  read, then `UPDATE … WHERE version = v` in autocommit, a transaction of one statement. Both in
  plain SQL: the ORM building the two queries cost more CPU than running them (py-spy, a worker).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from .pacing import FIELDS, State

log = logging.getLogger(__name__)
ATTEMPTS = 200  # compare-and-set rounds before giving up on a change (never reached in practice)
KEY_TTL = 2 * 24 * 3600  # a Redis budget nobody touched for two days goes away


# KEYS[1] the budget's hash; ARGV: the version read ("" when the hash had none), the TTL, then
# field, value, field, value... Writes them and bumps the version only if nobody wrote since the read.
WRITE_IF_UNCHANGED = """
local seen = redis.call('HGET', KEYS[1], 'version') or ''
if seen ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""


class Conflict(Exception):
    """Another process kept changing the state: the change was not made."""


Change = Callable[[State, float], "tuple[object, State | None]"]


class DatabaseStore:
    kind = "database"

    def change(self, client_id: int, fn: Change):
        """Apply fn(state, now) -> (result, new state or None) atomically; return the result."""
        from clients.models import RateBudget

        quote = connection.ops.quote_name
        table = quote(RateBudget._meta.db_table)
        select = f"SELECT {', '.join(map(quote, FIELDS))}, version FROM {table} WHERE client_id = %s"
        for _ in range(ATTEMPTS):
            with connection.cursor() as cursor:  # autocommit: nothing stays locked after a statement
                cursor.execute(select, [client_id])
                found = cursor.fetchone()
            if found is None:
                try:
                    with transaction.atomic():
                        RateBudget.objects.get_or_create(client_id=client_id)
                except IntegrityError:  # the client was deleted meanwhile
                    return fn(State(), time.time())[0]
                continue
            row, version = dict(zip(FIELDS, found[:-1], strict=True)), found[-1]
            result, new = fn(State.from_mapping(row), time.time())
            if new is None:
                return result
            values = {k: v for k, v in new.as_dict().items() if row.get(k) != v}
            assignments = "".join(f", {quote(name)} = %s" for name in values)
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET version = version + 1{assignments} "
                               "WHERE client_id = %s AND version = %s", [*values.values(), client_id, version])
                if cursor.rowcount:
                    return result
        raise Conflict(f"the rate budget of HTTP Client {client_id} kept changing")

    def read(self, client_ids: list[int]) -> tuple[dict[int, State], float]:
        from clients.models import RateBudget

        rows = RateBudget.objects.filter(pk__in=client_ids).values("client_id", *FIELDS)
        return {row.pop("client_id"): State.from_mapping(row) for row in rows}, time.time()


class RedisStore:
    kind = "redis"

    def __init__(self, url: str, namespace: str):
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.namespace = namespace
        self._write = self.redis.register_script(WRITE_IF_UNCHANGED)

    def key(self, client_id: int) -> str:
        return f"alumio-lite:rate-budget:{self.namespace}:{client_id}"

    def change(self, client_id: int, fn: Change):
        key = self.key(client_id)
        for _ in range(ATTEMPTS):
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.hgetall(key)
                pipe.time()
                raw, (seconds, micros) = pipe.execute()
            version = raw.pop(b"version", b"")
            result, new = fn(State.from_mapping(raw), seconds + micros / 1e6)
            if new is None:
                return result
            values = [item for name, value in new.as_dict().items() for item in (name, "" if value is None else value)]
            if self._write(keys=[key], args=[version, KEY_TTL, *values]):
                return result
        raise Conflict(f"the rate budget of HTTP Client {client_id} kept changing")

    def read(self, client_ids: list[int]) -> tuple[dict[int, State], float]:
        with self.redis.pipeline(transaction=False) as pipe:
            for client_id in client_ids:
                pipe.hgetall(self.key(client_id))
            pipe.time()
            *rows, (seconds, micros) = pipe.execute()
        return ({cid: State.from_mapping(raw) for cid, raw in zip(client_ids, rows, strict=True) if raw},
                seconds + micros / 1e6)


_stores: dict[tuple, object] = {}


def redis_url() -> str:
    """The Redis to keep budgets in: the Celery broker's, when it is Redis ("" otherwise)."""
    url = getattr(settings, "CELERY_BROKER_URL", "") or ""
    return url if url.startswith(("redis://", "rediss://", "unix://")) else ""


def default_store():
    """Redis when the broker is Redis, else the database; one per process (and per URL)."""
    url = redis_url()
    namespace = str(connection.settings_dict.get("NAME") or "")
    key = (url, namespace)
    if key not in _stores:
        _stores[key] = RedisStore(url, namespace) if url else DatabaseStore()
    return _stores[key]

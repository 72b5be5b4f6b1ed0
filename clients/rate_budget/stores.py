"""Where the budget's state lives, shared by every process: Redis, or the database.

Both do the same thing: read the state, compute the change (clients.rate_budget.pacing), and
write it only if nobody else wrote in between (compare-and-set), else read again. Nothing is
locked while a caller waits for its slot or talks to the platform:

- Redis (when the Celery broker is Redis): WATCH / MULTI on one hash per client; the time is
  Redis' own (TIME), so workers on several hosts agree on it.
- Database (SQLite with the filesystem broker, or PostgreSQL): one `RateBudget` row per client,
  read, then `UPDATE … WHERE version = v` in autocommit, a transaction of one statement.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from .pacing import FIELDS, State

log = logging.getLogger(__name__)
ATTEMPTS = 200  # compare-and-set rounds before giving up on a change (never reached in practice)
KEY_TTL = 2 * 24 * 3600  # a Redis budget nobody touched for two days goes away


class Conflict(Exception):
    """Another process kept changing the state: the change was not made."""


Change = Callable[[State, float], "tuple[object, State | None]"]


class DatabaseStore:
    kind = "database"

    def change(self, client_id: int, fn: Change):
        """Apply fn(state, now) -> (result, new state or None) atomically; return the result."""
        from clients.models import RateBudget

        for _ in range(ATTEMPTS):
            row = RateBudget.objects.filter(pk=client_id).values(*FIELDS, "version").first()
            if row is None:
                try:
                    with transaction.atomic():
                        RateBudget.objects.get_or_create(client_id=client_id)
                except IntegrityError:  # the client was deleted meanwhile
                    return fn(State(), time.time())[0]
                continue
            version = row.pop("version")
            result, new = fn(State.from_mapping(row), time.time())
            if new is None:
                return result
            values = {k: v for k, v in new.as_dict().items() if row.get(k) != v}
            if RateBudget.objects.filter(pk=client_id, version=version).update(version=F("version") + 1, **values):
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

    def key(self, client_id: int) -> str:
        return f"alumio-lite:rate-budget:{self.namespace}:{client_id}"

    def change(self, client_id: int, fn: Change):
        import redis

        key = self.key(client_id)
        with self.redis.pipeline() as pipe:
            for _ in range(ATTEMPTS):
                try:
                    pipe.watch(key)
                    raw = pipe.hgetall(key)
                    seconds, micros = pipe.time()
                    result, new = fn(State.from_mapping(raw), seconds + micros / 1e6)
                    if new is None:
                        pipe.unwatch()
                        return result
                    values = {k: ("" if v is None else v) for k, v in new.as_dict().items()}
                    pipe.multi()
                    pipe.hset(key, mapping=values)
                    pipe.expire(key, KEY_TTL)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue
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

"""Both places a budget can live: the database and Redis (skipped without a server, unless CI)."""
import os
import uuid

import pytest

from clients.rate_budget import stores
from tests.support.worker import REDIS_URL, redis_available


@pytest.fixture(params=["database", "redis"])
def budget_store(request, monkeypatch):
    """The store every budget in this process uses for the test (patched in as the default)."""
    if request.param == "redis":
        if not redis_available():
            if os.environ.get("REQUIRE_REDIS") == "1":
                pytest.fail(f"Redis is required but not reachable at {REDIS_URL}")
            pytest.skip(f"no Redis server at {REDIS_URL}")
        store = stores.RedisStore(f"{REDIS_URL}/0", f"test-{uuid.uuid4().hex}")
    else:
        store = stores.DatabaseStore()
    monkeypatch.setattr(stores, "default_store", lambda: store)
    yield store
    if request.param == "redis":
        keys = list(store.redis.scan_iter(f"alumio-lite:rate-budget:{store.namespace}:*"))
        if keys:
            store.redis.delete(*keys)


@pytest.fixture
def db_client(db):
    from tests.http.helpers import make_client

    return make_client("picqer")

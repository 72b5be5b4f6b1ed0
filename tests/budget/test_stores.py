"""The shared state in the database and in Redis: concurrent takers never lose a slot."""
import threading
import time

import pytest
from django.db import connection

from clients.rate_budget import pacing
from clients.rate_budget.pacing import Policy, State

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.rate_budget]

TAKERS, EACH = 4, 25
POLICY = Policy(configured=60, limit=None, window=60.0, headroom=0.0)  # a slot a second: none free in the test


def take_many(store, client_id):
    waits, errors = [], []

    def taker():
        try:
            for _ in range(EACH):
                slot = store.change(client_id, lambda s, now: pacing.take(s, now, POLICY, 10_000))
                waits.append(slot.wait)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=taker) for _ in range(TAKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    return waits


def test_concurrent_takers_each_get_their_own_slot(budget_store, db_client):
    begin = time.time()
    waits = take_many(budget_store, db_client.pk)
    end = time.time()
    states, _ = budget_store.read([db_client.pk])
    state = states[db_client.pk]
    total = TAKERS * EACH
    # Every take moved next_free one second on from the first slot: a lost update would be a second short.
    assert begin + total - 1 <= state.next_free <= end + total + 1
    assert len(waits) == total
    # The last slot handed out is total - 1 seconds after the first (its wait counted from a later instant).
    assert max(waits) >= total - 1 - (end - begin) - 0.01
    assert state.used + state.used_before >= 1


def test_a_refused_slot_leaves_the_state_as_it_was(budget_store, db_client):
    for _ in range(3):
        budget_store.change(db_client.pk, lambda s, now: pacing.take(s, now, POLICY, 10_000))
    before = budget_store.read([db_client.pk])[0][db_client.pk]
    slot = budget_store.change(db_client.pk, lambda s, now: pacing.take(s, now, POLICY, 0.5))
    assert not slot.granted
    assert budget_store.read([db_client.pk])[0][db_client.pk] == before


def test_pause_and_learned_limit_are_seen_by_every_reader(budget_store, db_client):
    budget_store.change(db_client.pk, lambda s, now: (None, pacing.pause(s, now, 50, "paused after HTTP 429")))
    budget_store.change(db_client.pk, lambda s, now: (None, pacing.learn(s, now, 321)))
    state, now = budget_store.read([db_client.pk])[0][db_client.pk], time.time()
    assert state.learned_limit == 321 and state.pause_reason == "paused after HTTP 429"
    assert now + 40 < state.paused_until <= now + 51
    assert budget_store.read([db_client.pk + 10_000])[0] == {}  # no state yet: nothing
    assert State() == State.from_mapping({})


def test_a_write_between_the_read_and_the_write_is_not_lost(budget_store, db_client):
    """Another process writing after this one read: the compare-and-set refuses, the change is redone."""
    calls = []

    def take_after_a_rival(state, now):
        calls.append(state)
        if len(calls) == 1:  # a rival takes a slot once this change has read the state
            budget_store.change(db_client.pk, lambda s, n: pacing.take(s, n, POLICY, 10_000))
        return pacing.take(state, now, POLICY, 10_000)

    budget_store.change(db_client.pk, lambda s, now: pacing.take(s, now, POLICY, 10_000))
    first = budget_store.read([db_client.pk])[0][db_client.pk].next_free
    slot = budget_store.change(db_client.pk, take_after_a_rival)
    state = budget_store.read([db_client.pk])[0][db_client.pk]
    assert len(calls) == 2 and calls[1].next_free == first + 1  # read again, with the rival's slot in it
    assert state.next_free == first + 2  # three slots a second apart: none lost, none shared
    assert slot.granted and slot.wait > 0.5


@pytest.mark.parametrize("budget_store", ["redis"], indirect=True)
def test_a_redis_budget_written_without_a_version_is_taken_over(budget_store, db_client):
    """A hash written before the version field (WATCH / MULTI) is read and updated, then versioned."""
    key = budget_store.key(db_client.pk)
    budget_store.redis.hset(key, mapping={"next_free": 0, "used": 7, "minute": 1, "pause_reason": "",
                                          "learned_limit": ""})
    budget_store.change(db_client.pk, lambda s, now: pacing.take(s, now, POLICY, 10_000))
    budget_store.change(db_client.pk, lambda s, now: pacing.take(s, now, POLICY, 10_000))
    assert budget_store.redis.hget(key, "version") == b"2"
    assert budget_store.read([db_client.pk])[0][db_client.pk].next_free > time.time()

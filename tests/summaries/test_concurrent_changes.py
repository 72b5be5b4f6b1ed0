"""Counts stay exact while several connections change task statuses at once, and when a process
is killed in the middle of a transaction."""
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from connections import engine
from connections.models import Incoming, Outgoing, Route, Task
from tests.support.worker import BASE_DIR, wait_for, worker_database_url

from .conftest import fresh_counts, kept_counts


def _route(name: str) -> Route:
    from clients.models import HttpClient

    client = HttpClient.objects.create(name=name, identifier=name, platform="picqer")
    incoming = Incoming.objects.create(name=name, identifier=f"{name}-in", platform="picqer", entity="GET /customers",
                                       client=client)
    outgoing = Outgoing.objects.create(name=name, identifier=f"{name}-out", platform="picqer", method="POST",
                                       entity="POST /customers", client=client)
    return Route.objects.create(name=name, identifier=name, incoming=incoming, outgoing=outgoing)


def _add_tasks(route: Route, start: int, count: int) -> None:
    Task.objects.bulk_create([Task(route=route, dedupe_key=f"k{start + i}", data={"i": start + i})
                              for i in range(count)], ignore_conflicts=True)


OUTCOMES = (Task.Status.FINISHED, Task.Status.FAILED, Task.Status.WAITING, Task.Status.SKIPPED)


def _churn(routes: list[int], seed: int, rounds: int, errors: list) -> None:
    """One connection doing what workers and users do, in random order."""
    rng = random.Random(seed)
    try:
        for n in range(rounds):
            action = rng.choice(["claim", "claim", "retry", "skip", "repair", "prune", "insert"])
            route_id = rng.choice(routes)
            for attempt in range(20):  # SQLite may say "locked" under this much contention: try again
                try:
                    with transaction.atomic():
                        if action == "claim":
                            for pk in engine.claim_tasks(route_id, limit=rng.randint(1, 8)):
                                Task.objects.filter(pk=pk, status=Task.Status.PROCESSING).update(
                                    status=rng.choice(OUTCOMES), next_attempt_at=None)
                        elif action in ("retry", "skip"):
                            ids = list(Task.objects.filter(route_id=route_id).order_by("?")
                                       .values_list("pk", flat=True)[:5])
                            (engine.retry_tasks if action == "retry" else engine.skip_tasks)(ids)
                        elif action == "repair":
                            engine.repair(now=timezone.now() + timedelta(hours=1))
                        elif action == "prune":
                            Task.objects.filter(pk__in=list(Task.objects.filter(
                                route_id=route_id, status=Task.Status.FINISHED).values_list("pk", flat=True)[:3])
                            ).delete()
                        else:
                            _add_tasks(Route(pk=route_id), 100_000 * seed + n * 10, 10)
                    break
                except OperationalError:
                    time.sleep(0.05 * (attempt + 1))
            else:
                raise AssertionError(f"{action} never got through")
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)
    finally:
        connections.close_all()


@pytest.mark.slow
def test_counts_equal_a_fresh_count_after_concurrent_changes(transactional_db):
    routes = [_route(f"route-{i}") for i in range(3)]
    for route in routes:
        _add_tasks(route, 0, 200)
    errors: list = []
    threads = [threading.Thread(target=_churn, args=([r.pk for r in routes], seed, 40, errors)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    counts = fresh_counts()
    assert len({status for _route, status in counts}) >= 4  # the churn really changed statuses
    assert kept_counts() == counts
    assert kept_counts(fold=True) == counts


KILLED_MID_TRANSACTION = """
import django, sys, time
django.setup()
from django.db import transaction
from connections import engine
from connections.models import Task
with transaction.atomic():
    claimed = engine.claim_tasks(int(sys.argv[1]), limit=50)
    Task.objects.filter(pk__in=claimed[:20]).update(status="finished")
    Task.objects.filter(pk__in=claimed[20:]).delete()
    print("inside", flush=True)
    time.sleep(600)
"""


@pytest.mark.slow
def test_a_process_killed_inside_a_transaction_leaves_the_counts_right(transactional_db):
    route = _route("killed")
    _add_tasks(route, 0, 100)
    before = fresh_counts()
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "DJANGO_SETTINGS_MODULE": "alumio_lite.settings"}
    child = subprocess.Popen([sys.executable, "-c", KILLED_MID_TRANSACTION, str(route.pk)], cwd=BASE_DIR, env=env,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "inside"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    connection.close()
    wait_for(lambda: fresh_counts() == before, timeout=60, message="the killed transaction rolled back")
    assert kept_counts(fold=True) == before
    engine.claim_tasks(route.pk, limit=10)  # and the table is writable again, counts moving on
    assert kept_counts(fold=True) == fresh_counts() == {(route.pk, "new"): 90, (route.pk, "processing"): 10}

"""Benchmark: one page of 1,000,000 records through a run, before and after bounded batches; and deleting its route.

    .venv/bin/python benchmarks/bench_big_page.py [--records 1000000]

A local fake Picqer (in this process) answers one page of N small records. Each run executes in
a fresh child process (`execute_run`, the engine as shipped), so its peak RSS (ru_maxrss) is its
own. Beside it, a probe thread in the child writes a one-row table through its own SQLite
connection every 50 ms and records the longest wait: how long a page kept other writers (beat,
the heartbeat, a second worker) out.

- "before": the page stored the way it was until this change (every task built in memory, one
  INSERT transaction for the page); the code of that step is kept below for the comparison.
- "after": the engine as shipped (connections/storing.py: batches of TASK_INSERT_BATCH).

Then the route with N tasks is deleted: Django's Route.delete() (before) and
connections.deletion.delete_route (after, batches of RETENTION_BATCH).
Prints figures and the machine load; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def configure(tmp: Path) -> None:
    os.environ.setdefault("HTTP_RATE_BUDGET", "0")  # the fakes enforce no limit (bench_rate_budget measures it)
    os.environ.update({
        "ALUMIO_VAR_DIR": str(tmp / "var"),
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "DJANGO_SETTINGS_MODULE": "alumio_lite.settings",
        "LOG_LEVEL": "WARNING",
        "HTTP_MAX_RESPONSE_BYTES": str(200_000_000),
        "HTTP_READ_TIMEOUT": "600",
        "PAGE_TASK_CAP": str(10_000_000),
    })
    import django

    django.setup()


# -- the step as it was before bounded batches (for the baseline only) -----------------------

def legacy_store_page(run, where, records, raw_count, routes, route_chains, entity_chain, counters):
    from django.db import transaction
    from django.utils import timezone

    from connections.engine import dedupe_key
    from connections.models import Run, Task

    set_number, number, prefix = where
    page_key = f"{set_number}.{number}" if set_number else str(number)
    entities = []
    for index, record in enumerate(records):
        source = record if isinstance(record, dict) else {"value": record}
        for branch, out in enumerate(entity_chain(source, f"page {number}, entity {index + 1}")):
            entities.append((index, branch, source, out))
    rows = []
    for route in routes:
        for index, branch, source, out in entities:
            for sub, data in enumerate(route_chains[route.pk](out, "route")):
                rows.append(Task(route=route, run=run, data=data,
                                 dedupe_key=dedupe_key(run.pk, page_key, index, f"{branch}.{sub}", source, data)))
    counters["pages"] += 1
    counters["entities"] += raw_count
    with transaction.atomic():
        Task.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
        Run.objects.filter(pk=run.pk).update(pages=counters["pages"], entities=counters["entities"],
                                             tasks_created=len(rows), heartbeat_at=timezone.now())
    return []


# -- child: one run, measured ------------------------------------------------------------------

class LockProbe(threading.Thread):
    """Writes through its own connection every 50 ms; remembers the longest wait for the write lock."""

    def __init__(self, path: str):
        super().__init__(daemon=True)
        self.path, self.longest, self.stop = path, 0.0, threading.Event()

    def run(self) -> None:
        db = sqlite3.connect(self.path, timeout=600, isolation_level=None)
        db.execute("CREATE TABLE IF NOT EXISTS bench_probe (n INTEGER)")
        while not self.stop.wait(0.05):
            started = time.monotonic()
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO bench_probe VALUES (1)")
            db.execute("COMMIT")
            self.longest = max(self.longest, time.monotonic() - started)
        db.close()


def child(mode: str, run_id: int, db_path: str) -> None:
    configure(Path(os.environ["BENCH_TMP"]))
    from connections import engine, subscription

    if mode == "before":
        subscription._store_page = legacy_store_page  # execute_run (connections.subscription) calls it there
    probe = LockProbe(db_path)
    probe.start()
    started = time.monotonic()
    run = engine.execute_run(run_id)
    seconds = time.monotonic() - started
    probe.stop.set()
    probe.join()
    print(json.dumps({"status": run.status, "error": run.error[:200], "tasks": run.tasks_created,
                      "seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "longest_lock_wait": probe.longest}))


# -- parent ------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-big-page-"))
    os.environ["BENCH_TMP"] = str(tmp)
    configure(tmp)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from connections import deletion, engine
    from connections.models import Incoming, Outgoing, Route, Task
    from tests.fakes.platforms import FakePicqer

    print(f"load average at start: {os.getloadavg()} (2 cores shared with other work)")
    fake = FakePicqer(records=args.records, record=lambda i: {"id": i}).start()
    fake.PAGE = args.records  # one page of every record
    client = fake.make_client()
    incoming = Incoming.objects.create(name="Big page", identifier="big-page", platform="picqer", method="GET",
                                       entity="GET /customers", client=client, pagination=False)
    outgoing = Outgoing.objects.create(name="Out", identifier="out", platform="picqer", method="POST",
                                       entity="POST /customers", client=client)
    results, deletes = {}, {}
    for mode in ("before", "after"):
        route = Route.objects.create(name=f"Route {mode}", identifier=f"route-{mode}", incoming=incoming,
                                     outgoing=outgoing, realtime=False)
        run = engine.start_run(incoming)
        out = subprocess.run([sys.executable, __file__, "--child", mode, str(run.pk), str(tmp / "bench.sqlite3")],
                             capture_output=True, text=True, env=os.environ, check=True)
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        print(mode, results[mode], flush=True)
        tasks = Task.objects.filter(route=route).count()
        started = time.monotonic()
        try:
            if mode == "before":
                route.delete()
            else:
                deletion.delete_route(route.pk)
            deletes[mode] = f"{time.monotonic() - started:.1f} s for {tasks:,} tasks"
            print(mode, "delete:", deletes[mode], flush=True)
        except Exception as exc:  # noqa: BLE001 - the baseline may fail; that is a figure too
            deletes[mode] = f"failed after {time.monotonic() - started:.1f} s: {type(exc).__name__}: {exc}"
            print(mode, "delete:", deletes[mode], flush=True)
            deletion.delete_route(route.pk)  # clean up the batched way
    fake.stop()

    print(f"\nOne page of {args.records:,} records, one route (SQLite):")
    for mode, r in results.items():
        print(f"  {mode:6}  {r['status']:8} {r['tasks']:>9,} tasks  {r['seconds']:6.1f} s  "
              f"peak RSS {r['peak_rss_mb']:7.0f} MB  longest wait of another writer {r['longest_lock_wait']:5.2f} s"
              + (f"  ({r['error']})" if r["error"] else ""))
    before, after = results["before"], results["after"]
    print(f"  after / before: peak RSS x{after['peak_rss_mb'] / before['peak_rss_mb']:.2f}, "
          f"longest writer wait x{after['longest_lock_wait'] / max(before['longest_lock_wait'], 1e-6):.3f}, "
          f"run time x{after['seconds'] / before['seconds']:.2f}")
    print("Deleting the route:")
    for mode, text in deletes.items():
        print(f"  {mode:6}  {text}")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()

"""Retention pruning a day of old request logs while a writer keeps inserting: the writer's longest stall.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale_bench .venv/bin/python benchmarks/bench_retention.py

On a database seeded by seed_scale.py (request logs spread over 14 days). A writer thread, on its
own connection, inserts one request log at a time (as a publisher logs its exchanges, triggers and
all) and records how long each insert took. First alone for a few seconds (the same run's
baseline), then while connections.retention deletes the oldest day of logs in its batches of
RETENTION_BATCH. Printed: rows deleted, batches, the longest batch, and the writer's median, p99
and longest insert in each phase with the ratio to the baseline. The bar: the longest stall stays
bounded by one batch (it must not grow with the number of rows pruned).

It deletes that day for good: run it on a benchmark database.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alumio_lite.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


class Writer(threading.Thread):
    """Inserts request logs one by one until stopped; keeps each insert's duration (ms) per phase."""

    def __init__(self, client_id: int):
        super().__init__(daemon=True)
        self.client_id, self.phase, self.stop = client_id, "baseline", threading.Event()
        self.times: dict[str, list[float]] = {}

    def run(self) -> None:
        from clients.models import RequestLog

        try:
            while not self.stop.is_set():
                started = time.perf_counter()
                RequestLog.objects.create(client_id=self.client_id, method="POST", url="https://bench/retention",
                                          status=201, request_body="{}", response_body="{}")
                self.times.setdefault(self.phase, []).append((time.perf_counter() - started) * 1000)
                time.sleep(0.01)
        finally:
            connections.close_all()


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{len(times):6} inserts, median {statistics.median(times):7.1f} ms, p99 {p99:7.1f} ms, " \
           f"longest {ordered[-1]:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=1.0, help="how much of the oldest logs to prune")
    parser.add_argument("--baseline-seconds", type=float, default=15.0)
    args = parser.parse_args()
    from clients.models import RequestLog
    from connections import retention

    oldest = RequestLog.objects.order_by("created_at").values_list("created_at", flat=True).first()
    client_id = RequestLog.objects.order_by("-id").values_list("client_id", flat=True).first()
    if oldest is None:
        sys.exit("no request logs: seed the database first (benchmarks/seed_scale.py)")
    limit = oldest + timezone.timedelta(days=args.days)
    print(f"bench_retention on {connection.vendor}: pruning request logs older than {limit:%Y-%m-%d %H:%M} "
          f"({args.days} day), batches of {settings.RETENTION_BATCH}, pause {settings.RETENTION_PAUSE_SECONDS} s; "
          f"load average {load()} on {os.cpu_count()} CPUs", flush=True)

    batches: list[float] = []
    original = retention._batches

    def timed_batches(queryset, work):
        def timed(ids):
            started = time.perf_counter()
            done = work(ids)
            batches.append((time.perf_counter() - started) * 1000)
            return done
        return original(queryset, timed)

    writer = Writer(client_id)
    writer.start()
    time.sleep(args.baseline_seconds)
    writer.phase = "pruning"
    started = time.perf_counter()
    retention._batches = timed_batches
    try:
        deleted = retention.delete_in_batches(RequestLog.objects.filter(created_at__lt=limit))
    finally:
        retention._batches = original
    elapsed = time.perf_counter() - started
    writer.phase = "after"
    time.sleep(3)
    writer.stop.set()
    writer.join()
    base = writer.times["baseline"]
    print(f"pruned {deleted:,} request logs in {elapsed:.1f} s, {len(batches)} batches; batch median "
          f"{statistics.median(batches):.1f} ms, longest {max(batches):.1f} ms; load average {load()}")
    for phase in ("baseline", "pruning", "after"):
        times = writer.times.get(phase, [])
        if times:
            print(f"  writer, {phase:<9} {summary(times)}; longest {max(times) / max(base):.2f}x the baseline's")


if __name__ == "__main__":
    main()

"""Seed a database with N tasks, runs and request logs, realistically mixed, as fast as the database allows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale_bench .venv/bin/python benchmarks/seed_scale.py
    DATABASE_URL=sqlite:////tmp/scale.sqlite3 .venv/bin/python benchmarks/seed_scale.py --tasks 1000000

Migrates the database first, then adds (by default, per 1,000,000 tasks) 100,000 runs and
1,500,000 request logs: statuses mixed as a busy installation has them (mostly finished, some
failed, waiting and new), ~1 KB of task data and ~2 KB of request and response bodies, created over
the retention window (30 days of tasks, 14 of logs), five routes of which the biggest holds half
the tasks. PostgreSQL generates the rows itself, a million per INSERT ... SELECT FROM generate_series
(benchmarks/seed_sql.py; `--copy` sends them from Python with COPY instead, ~20x slower), SQLite gets
batched INSERTs with synchronous writes off. The database's triggers run as they do in production
(the kept counts are right afterwards) and every index of the migrated schema is kept. Ends with
(VACUUM) ANALYZE, and prints how long each table took and the machine's load. Run it under `nice -n 10` on a
shared machine: on PostgreSQL the server process doing the work gets the same niceness.

    nice -n 10 .venv/bin/python benchmarks/seed_scale.py --tasks 10000000 --runs 1000000 --logs 10000000

Use a database of its own: the rows are added to whatever is there.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alumio_lite.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

CHUNK = 50_000
TASK_STATUSES = [("finished", 85), ("failed", 2), ("skipped", 3), ("waiting", 3), ("new", 6), ("processing", 1)]
LOG_STATUSES = [(200, 80), (201, 10), (304, 1), (404, 3), (422, 2), (429, 1), (500, 1), (503, 1), (None, 1)]
ROUTE_SHARES = [50, 20, 15, 10, 5]


def weighted(choices: list[tuple], n: int, rng: random.Random) -> list:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights, k=n)


def setup(routes: int):
    """An HTTP Client, configurations and routes to hang the rows on (reused when present)."""
    from clients.models import HttpClient
    from connections.models import Incoming, Outgoing, Route

    client, _ = HttpClient.objects.get_or_create(identifier="scale-seed", defaults={
        "name": "Scale seed", "platform": "picqer", "log_requests": True})
    made = []
    for i in range(routes):
        incoming, _ = Incoming.objects.get_or_create(identifier=f"scale-in-{i}", defaults={
            "name": f"Seed incoming {i}", "platform": "picqer", "entity": "GET /customers", "client": client})
        outgoing, _ = Outgoing.objects.get_or_create(identifier=f"scale-out-{i}", defaults={
            "name": f"Seed outgoing {i}", "platform": "picqer", "method": "POST", "entity": "POST /customers",
            "client": client})
        route, _ = Route.objects.get_or_create(identifier=f"scale-route-{i}", defaults={
            "name": f"Seed route {i}", "incoming": incoming, "outgoing": outgoing, "realtime": False})
        made.append(route)
    return client, made


def ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") + ("+00" if connection.vendor == "postgresql" else "")


def write(table: str, columns: list[str], rows) -> None:
    """Write rows (tuples of text or None) in chunks: COPY on PostgreSQL, executemany on SQLite."""
    rows = list(rows)
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        marks = ", ".join(["?"] * len(columns))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        return cursor.fetchone()[0]


def seed_runs(count: int, incomings: list[int], now: datetime, rng: random.Random) -> tuple[int, int]:
    columns = ["incoming_id", "status", "trigger", "pages", "entities", "filtered", "tasks_created", "error",
               "error_step", "cancel_requested", "worker", "heartbeat_at", "created_at", "started_at", "finished_at"]
    false = "false" if connection.vendor == "postgresql" else 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM connections_run")
        first = cursor.fetchone()[0] + 1
    for start in range(0, count, CHUNK):
        rows = []
        for i in range(start, min(count, start + CHUNK)):
            at = now - timedelta(seconds=(count - i) * 30 * 86400 / count)
            failed = rng.random() < 0.03
            rows.append((incomings[i % len(incomings)], "failed" if failed else "finished", "schedule", 10, 1000,
                         0, 10, "HTTP 500 at page 3" if failed else "", "page 3" if failed else "", false,
                         "seed", ts(at), ts(at), ts(at), ts(at + timedelta(seconds=20))))
        write("connections_run", columns, rows)
    return first, first + count - 1


def seed_tasks(count: int, routes: list[int], runs: tuple[int, int], now: datetime, rng: random.Random) -> None:
    columns = ["route_id", "run_id", "dedupe_key", "record_id", "label", "data", "status", "attempts", "last_error",
               "response_status", "response_body", "next_attempt_at", "processing_started_at", "created_at",
               "updated_at"]
    filler = "x" * 820  # ~1 KB of data per task, as a customer record with its address and notes
    salt = rng.randrange(10**9)
    for start in range(0, count, CHUNK):
        n = min(count, start + CHUNK) - start
        statuses = weighted(TASK_STATUSES, n, rng)
        chosen_routes = weighted(list(zip(routes, ROUTE_SHARES[:len(routes)], strict=False)), n, rng)
        rows = []
        for j in range(n):
            i = start + j
            at = now - timedelta(seconds=(count - i) * 30 * 86400 / count)
            status = statuses[j]
            data = json.dumps({"payload": {"name": f"Customer {i}", "email": f"c{i}@example.com",
                                           "address": {"street": "Main street 1", "city": "Utrecht"},
                                           "notes": filler}})
            failed = status == "failed"
            run = runs[0] + (i * (runs[1] - runs[0] + 1)) // count
            rows.append((chosen_routes[j], run, f"e:{salt}:{i}", str(100000 + i), f"Customer {i}", data, status,
                         1 if status != "new" else 0, "HTTP 422: name is required" if failed else "",
                         422 if failed else (201 if status == "finished" else None), "",
                         ts(at + timedelta(minutes=5)) if status == "waiting" else None,
                         ts(now) if status == "processing" else None, ts(at), ts(at + timedelta(seconds=2))))
        write("connections_task", columns, rows)


def seed_logs(count: int, client_id: int, tasks: tuple[int, int], runs: tuple[int, int], now: datetime,
              rng: random.Random) -> None:
    """As seed_sql.seed_logs: a fifth are a fetch's GETs (linked to a run), the rest a publication's POSTs
    (linked to a task); both of what was made at the log's time (the logs cover the last 14 of 30 days)."""
    columns = ["client_id", "run_id", "task_id", "method", "url", "status", "duration_ms", "request_headers",
               "request_body", "response_headers", "response_body", "error", "created_at"]
    request_body = json.dumps({"name": "Customer", "notes": "y" * 500})
    response_body = json.dumps({"data": {"id": 1, "name": "Customer", "notes": "z" * 1400}})
    headers = json.dumps({"Content-Type": "application/json", "Authorization": "[redacted]"})
    for start in range(0, count, CHUNK):
        n = min(count, start + CHUNK) - start
        statuses = weighted(LOG_STATUSES, n, rng)
        rows = []
        for j in range(n):
            i = start + j
            at = now - timedelta(seconds=(count - i) * 14 * 86400 / count)
            status = statuses[j]
            made = (16 + 14 * i / count) / 30
            fetch = i % 5 == 0
            run = runs[0] + int((runs[1] - runs[0]) * made) if fetch else None
            task = None if fetch else tasks[0] + int((tasks[1] - tasks[0]) * made)
            rows.append((client_id, run, task, "GET" if fetch else "POST",
                         f"https://shop.picqer.com/api/v1/customers?n={i}",
                         None if status is None else str(status), 120, headers, request_body, headers,
                         response_body, "Connection refused" if status is None else "", ts(at)))
        write("clients_requestlog", columns, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, help="default: tasks / 10")
    parser.add_argument("--logs", type=int, help="default: tasks * 1.5")
    parser.add_argument("--routes", type=int, default=5)
    parser.add_argument("--copy", action="store_true", help="PostgreSQL: COPY rows built in Python")
    args = parser.parse_args()
    runs = args.runs if args.runs is not None else args.tasks // 10
    logs = args.logs if args.logs is not None else args.tasks * 3 // 2
    print(f"seed_scale on {connection.vendor} ({connection.settings_dict['NAME']}): {args.tasks:,} tasks, "
          f"{runs:,} runs, {logs:,} request logs; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs", flush=True)
    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")
    rng = random.Random(14)
    now = datetime.now(UTC)
    client, routes = setup(args.routes)
    started = time.perf_counter()
    if connection.vendor == "postgresql" and not args.copy:
        server_side(args, runs, logs, client, routes, now, rng)
    else:
        python_side(args, runs, logs, client, routes, now, rng, started)
    mark = time.perf_counter()
    from summaries.maintenance import fold

    fold()
    with connection.cursor() as cursor:
        # PostgreSQL: VACUUM too, so the visibility map is set as on a table autovacuum has long since
        # visited (index-only scans); otherwise autovacuum does it in the middle of the benchmarks.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"  (vacuum) analyze: {time.perf_counter() - mark:7.1f} s", flush=True)
    print(f"done in {time.perf_counter() - started:.1f} s; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def server_side(args, runs: int, logs: int, client, routes, now, rng) -> None:
    import seed_sql

    seed_sql.nice_backend()
    mark = time.perf_counter()
    made_runs = seed_sql.seed_runs(max(runs, 1), [r.incoming_id for r in routes], now)
    print(f"  runs:         {time.perf_counter() - mark:7.1f} s", flush=True)
    mark = time.perf_counter()
    made_tasks = seed_sql.seed_tasks(args.tasks, [r.pk for r in routes], ROUTE_SHARES, made_runs, now,
                                     rng.randrange(10**9), TASK_STATUSES)
    print(f"  tasks:        {time.perf_counter() - mark:7.1f} s", flush=True)
    mark = time.perf_counter()
    seed_sql.seed_logs(logs, client.pk, made_tasks, made_runs, now, LOG_STATUSES)
    print(f"  request logs: {time.perf_counter() - mark:7.1f} s", flush=True)


def python_side(args, runs: int, logs: int, client, routes, now, rng, started) -> None:
    first_last = seed_runs(max(runs, 1), [r.incoming_id for r in routes], now, rng)
    print(f"  runs:         {time.perf_counter() - started:7.1f} s", flush=True)
    mark = time.perf_counter()
    first_task = next_id("connections_task")
    seed_tasks(args.tasks, [r.pk for r in routes], first_last, now, rng)
    print(f"  tasks:        {time.perf_counter() - mark:7.1f} s", flush=True)
    mark = time.perf_counter()
    seed_logs(logs, client.pk, (first_task, next_id("connections_task") - 1), first_last, now, rng)
    print(f"  request logs: {time.perf_counter() - mark:7.1f} s", flush=True)


if __name__ == "__main__":
    main()

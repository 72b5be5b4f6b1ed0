"""Benchmark: a route moving N entities (100 a page) from a local fake Picqer to a local fake Pipedrive.

    .venv/bin/python benchmarks/bench_route.py [--entities 20000] [--small 2000] [--log-requests]

Measured in one go, against the same two fake servers on 127.0.0.1 (threads of this process):
1. a plain `requests` script making the same calls sequentially (GET every page, POST every entity),
   in a process of its own like a worker (in this process it would share the fakes' GIL);
2. the route run by 1 real `celery worker` at its default concurrency (as bin/start runs it: one pool
   process per CPU), target within 1.5x the plain script;
3. the route run by 1 `celery worker` process at concurrency 1;
4. the same with 2 `celery worker` processes (concurrency 1 each): one reads pages while the other
   publishes, then both publish (their claims never overlap), target at least 1.8x (3);
and the peak RSS (VmHWM) of a fresh worker's pool process after a run of `--small` and of N entities.
`--log-requests` turns request logging on for both HTTP Clients (off by default, as for a new client). Both
clients have "Requests per minute" 0 (no shared rate budget): the fakes have no limit, and the plain script
ignores limits too.

Everything lives in a temporary directory: a SQLite database (or BENCH_DATABASE_URL, which will be
migrated and filled, so give it an empty database) and the filesystem broker (or BENCH_BROKER_URL).
Prints figures; it asserts nothing (speed is not a test).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from support import BASE_DIR, backends, configure, load, start_workers


def plain_script(source, destination, token: str, key: str) -> float:
    """Run plain_calls() in a process of its own; its time."""
    out = subprocess.run([sys.executable, __file__, "--plain", source.base_uri, destination.base_uri, token, key],
                         check=True, capture_output=True, text=True, cwd=BASE_DIR)
    return float(out.stdout.strip().splitlines()[-1])


def plain_calls(source_uri: str, destination_uri: str, token: str, key: str) -> float:
    """What a hand-written integration would do: read every page, post every record, in sequence."""
    import requests

    session = requests.Session()
    session.auth = (key, "")
    session.headers["User-Agent"] = "alumio-lite bench (ops@example.com)"
    post = requests.Session()
    started = time.perf_counter()
    offset = 0
    while True:
        page = session.get(f"{source_uri}/customers", params={"offset": offset}, timeout=30)
        page.raise_for_status()
        records = page.json()
        for record in records:
            reply = post.post(f"{destination_uri}/v1/persons", json={"name": record["name"],
                              "email": record["email"]}, headers={"x-api-token": token}, timeout=30)
            reply.raise_for_status()
        if len(records) < 100:
            break
        offset += len(records)
    return time.perf_counter() - started


def run_route(pipeline, env: dict, tmp: Path, workers: int, label: str, total: int,
              concurrency: int | None = 1) -> tuple[float, list]:
    from connections import tasks as jobs
    from connections.models import Run, Task

    Task.objects.all().delete()
    Run.objects.all().delete()
    pipeline.destination.published.clear()
    started_workers = start_workers(env, tmp, label, workers, concurrency)
    started = time.perf_counter()
    run = jobs.start_run(pipeline.incoming)
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        done = Task.objects.filter(status=Task.Status.FINISHED).count()
        if done >= total:
            break
        run.refresh_from_db()
        if run.status == "failed":
            raise RuntimeError(f"run failed: {run.error}")
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    bad = Task.objects.exclude(status=Task.Status.FINISHED).count()
    if bad or len(pipeline.destination.published) < total:
        raise RuntimeError(f"{bad} tasks not finished, {len(pipeline.destination.published)} published")
    memory = [w.peak_rss_mb() for w in started_workers]
    for worker in started_workers:
        worker.stop()
    return elapsed, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--log-requests", action="store_true", help="request logging on for both HTTP Clients")
    parser.add_argument("--plain", nargs=4, help=argparse.SUPPRESS)  # the plain script's own process
    args = parser.parse_args()
    if args.plain:
        print(plain_calls(*args.plain))
        return

    tmp = Path(tempfile.mkdtemp(prefix="bench-route-"))
    env = configure(tmp)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tests.engine.conftest import build_pipeline
    from tests.fakes.platforms import FakePicqer, FakePipedrive

    print(f"bench_route: {args.entities} entities, 100 a page; {backends()}; "
          f"request logging {'on' if args.log_requests else 'off'}; load average {load()} on {os.cpu_count()} CPUs",
          flush=True)
    with FakePicqer(records=args.entities, keep_requests=False) as source, \
            FakePipedrive(keep_requests=False) as destination:
        pipeline = build_pipeline(source, destination, name="bench", log_requests=args.log_requests)
        from clients.models import HttpClient

        if hasattr(HttpClient, "rate_limit_per_minute"):  # the fakes have no rate limit: no shared budget (0)
            HttpClient.objects.filter(pk__in=[pipeline.incoming.client_id, pipeline.outgoing.client_id]).update(
                rate_limit_per_minute=0)

        plain = plain_script(source, destination, destination.api_token, source.api_key)
        destination.published.clear()
        print(f"plain requests script : {plain:7.2f} s  {args.entities / plain:8.0f} entities/s", flush=True)

        source.total = args.small
        _small_time, small_memory = run_route(pipeline, env, tmp, 1, "small", args.small)

        source.total = args.entities
        default, _ = run_route(pipeline, env, tmp, 1, "default", args.entities, concurrency=None)
        print(f"route, 1 worker, default concurrency ({os.cpu_count()}) : {default:7.2f} s  "
              f"{args.entities / default:8.0f} entities/s  {default / plain:5.2f}x the plain script (target <= 1.5x)",
              flush=True)
        one, big_memory = run_route(pipeline, env, tmp, 1, "one", args.entities)
        print(f"route, 1 worker, concurrency 1          : {one:7.2f} s  {args.entities / one:8.0f} entities/s  "
              f"{one / plain:5.2f}x the plain script", flush=True)
        two, _ = run_route(pipeline, env, tmp, 2, "two", args.entities)
        print(f"route, 2 workers, concurrency 1 each    : {two:7.2f} s  {args.entities / two:8.0f} entities/s  "
              f"{two / plain:5.2f}x the plain script; {one / two:4.2f}x faster than 1 worker (target >= 1.8x)",
              flush=True)

        small_pool, big_pool = small_memory[0].get("pool", 0), big_memory[0].get("pool", 0)
        print(f"worker peak RSS (pool process) : {small_pool:6.1f} MB at {args.small} entities, "
              f"{big_pool:6.1f} MB at {args.entities} entities "
              f"({(big_pool / small_pool - 1) * 100:+.1f}%, target within 20%)")
        print(f"worker peak RSS (main process) : {small_memory[0].get('main', 0):6.1f} MB, "
              f"{big_memory[0].get('main', 0):6.1f} MB")
    print(f"(logs and database in {tmp}); load average at the end {load()}")


if __name__ == "__main__":
    main()

"""Benchmark: 4 worker processes publishing through one HTTP Client to a platform that allows N a minute.

    .venv/bin/python benchmarks/bench_rate_budget.py [--tasks 5000] [--limit 600] [--workers 4]

A local fake Pipedrive (a real HTTP server on 127.0.0.1) accepts `--limit` requests in any 60
seconds (sliding window; `--fixed` for fixed one-minute windows) and answers 429 with Retry-After
beyond that. `--workers` real `celery worker` processes (concurrency 1 each, PUBLISH_FANOUT of the
same number) publish `--tasks` tasks of one route through one HTTP Client, twice in the same run:

1. `off`:    HTTP_RATE_BUDGET=0, today's behaviour: every process sends as fast as it can, a 429
             parks its task as Waiting until the Retry-After, then it is tried again;
2. `budget`: the shared rate budget (clients/rate_budget) in the database, or in Redis when
             BENCH_BROKER_URL is Redis. The client's Requests per minute is left blank when
             --limit is 600 (Pipedrive's documented 20 per 2 s is 600 a minute), else set to --limit.

Printed per mode, as counted by the fake server: the sustained rate (accepted requests between the
first and the last, per minute) as a % of the limit, the whole publication's rate (tasks / wall
time), the 429s answered, the most requests accepted in any 60 s; and the machine's load average.
Everything lives in a temporary directory (SQLite and the filesystem broker unless BENCH_DATABASE_URL
/ BENCH_BROKER_URL say otherwise; a given database is migrated and its tasks deleted). Asserts nothing.
At the defaults each mode takes over 8 minutes (5,000 at 600 a minute).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from support import backends, configure, load, publish, seed_tasks, start_workers


def run_mode(mode: str, args, env: dict, tmp: Path) -> dict:
    from connections.models import Route, Task
    from tests.engine.conftest import build_pipeline
    from tests.fakes.limited import LimitedPipedrive
    from tests.fakes.platforms import FakePicqer

    os.environ["HTTP_RATE_BUDGET"] = "1" if mode == "budget" else "0"
    Task.objects.all().delete()
    Route.objects.all().delete()
    with FakePicqer() as source, LimitedPipedrive(limit=args.limit, window=60.0, sliding=not args.fixed,
                                                  keep_requests=False) as destination:
        pipeline = build_pipeline(source, destination, name=f"bench-{mode}-{int(time.time())}", log_requests=False,
                                  backoff=1,
                                  max_attempts=100)
        client = pipeline.outgoing.client
        client.rate_limit_per_minute = None if args.limit == 600 else args.limit
        client.save()
        seed_tasks(pipeline.route, args.tasks)
        workers = start_workers({**env, "HTTP_RATE_BUDGET": os.environ["HTTP_RATE_BUDGET"]}, tmp, mode, args.workers)
        load_before = load()
        elapsed, finished = publish(pipeline.route, args.tasks, args.tasks / args.limit * 60 * 4 + 600)
        for worker in workers:
            worker.stop()
        limiter = destination.limiter
        return {
            "mode": mode, "finished": finished, "elapsed": elapsed, "accepted": len(limiter.accepted),
            "refused": limiter.refused, "sustained": limiter.rate() * 60, "max_window": limiter.max_in_window(),
            "published": len(destination.published), "load_before": load_before, "load_after": load(),
        }


def report(r: dict, limit: int) -> None:
    whole = r["finished"] / r["elapsed"] * 60
    print(f"{r['mode']:>6}: {r['finished']} of the tasks finished in {r['elapsed']:7.1f} s; sustained "
          f"{r['sustained']:6.1f}/min = {100 * r['sustained'] / limit:5.1f}% of {limit}; whole run "
          f"{whole:6.1f}/min = {100 * whole / limit:5.1f}%; HTTP 429s: {r['refused']}; most in one window: "
          f"{r['max_window']}; published {r['published']}; load {r['load_before']} -> {r['load_after']}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=5_000)
    parser.add_argument("--limit", type=int, default=600, help="requests a minute the fake platform allows")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--fixed", action="store_true", help="fixed one-minute windows instead of a sliding one")
    parser.add_argument("--modes", default="off,budget", help="which of off,budget to run, in that order")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-rate-budget-"))
    env = configure(tmp, PUBLISH_FANOUT=str(args.workers))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from clients.rate_budget.stores import redis_url

    call_command("migrate", verbosity=0)
    window = "in each fixed minute" if args.fixed else "in any 60 s (sliding window)"
    print(f"bench_rate_budget: {args.tasks} tasks, fake Pipedrive allowing {args.limit} requests {window}, "
          f"429 + Retry-After beyond; {args.workers} `celery "
          f"worker` processes (concurrency 1); {backends()}, budget kept in "
          f"{'Redis' if redis_url() else 'the database'}, headroom {settings.HTTP_RATE_BUDGET_HEADROOM:g}; "
          f"load average {load()} on {os.cpu_count()} CPUs", flush=True)
    results = {}
    for mode in args.modes.split(","):
        results[mode] = run_mode(mode, args, env, tmp)
        report(results[mode], args.limit)
    if "off" in results and "budget" in results:
        off, on = results["off"], results["budget"]
        ratio = on["sustained"] / max(off["sustained"], 1e-9)
        print(f"budget vs off (same run): 429s {on['refused']} vs {off['refused']}; whole-run time "
              f"{on['elapsed'] / off['elapsed']:.2f}x; sustained rate {ratio:.2f}x")
    print(f"(logs and database in {tmp}); load average at the end {load()}")


if __name__ == "__main__":
    main()

"""Benchmark: what the shared rate budget costs per platform call when it never has to wait.

    .venv/bin/python benchmarks/bench_budget_cost.py [--tasks 3000] [--workers 2] [--rounds 2]

One route publishes `--tasks` tasks to a local fake Pipedrive (no rate limit) on `--workers` real
`celery worker` processes (concurrency 1, PUBLISH_FANOUT of the same number), alternately:

- `off`:    HTTP_RATE_BUDGET=0, as bench_route runs (the baseline);
- `budget`: the shared budget on, its HTTP Client at `--per-minute` requests a minute (default
            60,000,000: a slot every microsecond, far above what the fake can serve), so no call
            ever waits: what is measured is the bookkeeping alone (one compare-and-set per call,
            in the database, or in Redis when BENCH_BROKER_URL is Redis).

The rounds alternate the order (off, budget, then budget, off, ...) so a load that drifts during the
run weighs on both. Prints each run's tasks/s, the median of each mode, their ratio, and the load
average. SQLite and the filesystem broker unless BENCH_DATABASE_URL / BENCH_BROKER_URL say otherwise
(a given database is migrated and its tasks deleted). Asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from support import backends, configure, load, publish, seed_tasks, start_workers


def one_run(mode: str, pipeline, args, env: dict, tmp: Path, label: str) -> float:
    """Tasks per second for one publication of `--tasks` tasks."""
    from connections.models import Task

    Task.objects.filter(route=pipeline.route).delete()
    pipeline.destination.published.clear()
    seed_tasks(pipeline.route, args.tasks)
    workers = start_workers({**env, "HTTP_RATE_BUDGET": "1" if mode == "budget" else "0"}, tmp, label,
                            args.workers)
    try:
        elapsed, finished = publish(pipeline.route, args.tasks, timeout=1800, poll=0.1)
    finally:
        for worker in workers:
            worker.stop()
    if finished < args.tasks or len(pipeline.destination.published) < args.tasks:
        raise RuntimeError(f"{mode}: {finished} finished, {len(pipeline.destination.published)} published")
    return args.tasks / elapsed


def slots_taken(client_id: int) -> str:
    """What the store says was counted this minute and the one before (proof the budget was used)."""
    from clients.rate_budget.stores import default_store

    states, _now = default_store().read([client_id])
    state = states.get(client_id)
    return f"{state.used} + {state.used_before} slots counted" if state else "no budget state (not used?)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=3_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs (off + budget)")
    parser.add_argument("--modes", default="off,budget", help="which modes to alternate")
    parser.add_argument("--per-minute", type=int, default=60_000_000, help="the HTTP Client's Requests per minute")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-budget-cost-"))
    env = configure(tmp, PUBLISH_FANOUT=str(args.workers))
    import django

    django.setup()
    from django.core.management import call_command

    from clients.rate_budget.stores import redis_url
    from tests.engine.conftest import build_pipeline
    from tests.fakes.platforms import FakePicqer, FakePipedrive

    call_command("migrate", verbosity=0)
    print(f"bench_budget_cost: {args.tasks} tasks a run, {args.workers} `celery worker` processes (concurrency 1), "
          f"{args.rounds} rounds; {backends()}; budget kept in {'Redis' if redis_url() else 'the database'} at "
          f"{args.per_minute:,} a minute; load average {load()} on {os.cpu_count()} CPUs", flush=True)
    rates: dict[str, list[float]] = {"off": [], "budget": []}
    with FakePicqer(records=0) as source, FakePipedrive(keep_requests=False) as destination:
        pipeline = build_pipeline(source, destination, name=f"bench-cost-{os.getpid()}", log_requests=False)
        client = pipeline.outgoing.client
        client.rate_limit_per_minute = args.per_minute
        client.save()
        for round_ in range(args.rounds):
            modes = args.modes.split(",")
            order = modes if round_ % 2 == 0 else modes[::-1]
            for mode in order:
                before = load()
                rate = one_run(mode, pipeline, args, env, tmp, f"{mode}{round_}")
                rates[mode].append(rate)
                extra = f"; {slots_taken(client.pk)}" if mode == "budget" else ""
                print(f"round {round_ + 1} {mode:>6}: {rate:7.1f} tasks/s; load {before} -> {load()}{extra}",
                      flush=True)
    if not (rates["off"] and rates["budget"]):
        return
    off, budget = statistics.median(rates["off"]), statistics.median(rates["budget"])
    print(f"median: off {off:.1f} tasks/s, budget {budget:.1f} tasks/s; budget/off {budget / off:.3f} "
          f"({(1 - budget / off) * 100:+.1f} % fewer tasks/s with the budget)")
    print(f"(logs and database in {tmp}); load average at the end {load()}")


if __name__ == "__main__":
    main()

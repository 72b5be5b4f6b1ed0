"""How much does the HTTP seam cost when paging through a large list, in time and in memory?

A local fake Picqer (tests/fakes, in a child process so its own allocations are not counted)
serves N records, 100 per page. The same pages are read two ways, in one run:
- `ClientSession.paginate("GET /customers")`: auth, streaming read with a size cap, retries,
  redaction-ready exchange records, usage updates, the offset100 strategy; and
- a baseline: a plain `requests.Session` loop doing the same calls (offset += 100 until a
  short page, `response.json()`).

Prints both times, the ratio and the peak Python memory (tracemalloc) at 10,000 and 100,000
records. Targets: ratio <= 1.3; peak memory at 100k within 20 % of 10k (one page at a time).
Usage: python benchmarks/bench_pagination.py [--repeat 3] [--sizes 10000,100000]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def serve(records: int, queue, stop) -> None:  # runs in the child process
    from tests.fakes import FakePicqer

    with FakePicqer(records=records, keep_requests=False) as fake:
        queue.put((fake.base_uri, fake.api_key))
        stop.wait()


def setup_django(workdir: str) -> None:
    os.environ.setdefault("HTTP_RATE_BUDGET", "0")  # the fakes enforce no limit (bench_rate_budget measures it)
    os.environ["ALUMIO_VAR_DIR"] = workdir
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["DJANGO_SETTINGS_MODULE"] = "alumio_lite.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def seam_pass(client) -> int:
    from clients.http import ClientSession

    count = 0
    with ClientSession(client) as session:
        for page in session.paginate("GET /customers"):
            count += page.raw_count
    return count


def plain_pass(base_uri: str, api_key: str) -> int:
    import requests

    count = offset = 0
    with requests.Session() as session:
        session.auth = (api_key, "")
        # Picqer refuses a User-Agent without a contact (400), as the fake does.
        session.headers.update({"User-Agent": "bench/1.0 (bench@example.com)", "Accept": "application/json"})
        while True:
            response = session.get(f"{base_uri}/customers", params={"offset": offset}, timeout=(5, 30))
            response.raise_for_status()
            page = response.json()
            count += len(page)
            if len(page) < 100:
                return count
            offset += 100


def timed(fn, *args) -> tuple[float, int]:
    started = time.perf_counter()
    count = fn(*args)
    return time.perf_counter() - started, count


def peak_memory(fn, *args) -> int:
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per way (median reported)")
    parser.add_argument("--sizes", default="10000,100000", help="record counts, comma-separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    workdir = tempfile.mkdtemp(prefix="bench-pagination-")
    setup_django(workdir)
    from clients.models import HttpClient

    ctx = multiprocessing.get_context("spawn")
    print(f"bench_pagination: Picqer fake in a child process, 100 records per page, median of {args.repeat}; "
          f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"{'records':>8} | {'paginate':>9} | {'plain loop':>10} | {'ratio':>5} | {'records/s':>9} | "
          f"{'peak mem paginate':>17} | {'peak mem plain':>14}")
    peaks = {}
    for size in sizes:
        queue, stop = ctx.Queue(), ctx.Event()
        child = ctx.Process(target=serve, args=(size, queue, stop), daemon=True)
        child.start()
        base_uri, api_key = queue.get(timeout=30)
        client = HttpClient.objects.create(
            name=f"bench {size}", identifier=f"bench-{size}", platform="picqer",
            settings={"base_uri": base_uri}, secrets={"api_key": api_key},
        )
        try:
            assert seam_pass(client) == size == plain_pass(base_uri, api_key)  # warm up, and check both agree
            seam_times, plain_times = [], []
            for _ in range(args.repeat):  # interleaved, so drift hits both ways alike
                seam_times.append(timed(seam_pass, client)[0])
                plain_times.append(timed(plain_pass, base_uri, api_key)[0])
            seam, plain = statistics.median(seam_times), statistics.median(plain_times)
            peak_seam = peak_memory(seam_pass, client)
            peak_plain = peak_memory(plain_pass, base_uri, api_key)
            peaks[size] = peak_seam
            print(f"{size:>8} | {seam:>8.2f}s | {plain:>9.2f}s | {seam / plain:>5.2f} | {size / seam:>9.0f} | "
                  f"{peak_seam / 1024:>14.0f} KiB | {peak_plain / 1024:>11.0f} KiB")
        finally:
            stop.set()
            child.join(timeout=10)
    if len(peaks) >= 2:
        small, large = min(peaks), max(peaks)
        growth = peaks[large] / peaks[small] - 1
        print(f"peak memory at {large} vs {small} records: {growth:+.1%} (target: within +20%)")


if __name__ == "__main__":
    main()

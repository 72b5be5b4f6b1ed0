"""Benchmark: webhook intake under gunicorn (2 processes) on PostgreSQL, against a same-run baseline.

    .venv/bin/python benchmarks/bench_webhooks.py [--seconds 30] [--connections 16] [--generator auto]

A load generator (one keep-alive connection per client, bounded by --seconds) posts signed
2 KB JSON events (Picqer's scheme: base64 HMAC-SHA256 in X-Picqer-Signature) to
1. the baseline: a view behind the same middleware that answers 202 and stores nothing;
2. the endpoint POST /webhooks/<identifier>: look-up, signature check, the raw request stored,
   202 after the commit, a broker message to the workers after the answer.
The two take turns in slices (--rounds), so a change of the machine's load falls on both.
The generator is wrk (C, bench_webhooks.lua) when it is installed (`apt-get install wrk`), else
Python threads, which take a good part of the 2 cores from the server; both sides of one run
always use the same generator, and the output says which one ran. Each request is tagged in its
query string (?n=<slice><client>-<count>): wrk drops what is in flight when its time is up, and
the tags tell which stored rows were never answered, so "lost" stays exact.
It prints requests/s, p50/p99 latency, the ratio to the baseline, and "lost": sent-and-answered-202
minus rows stored (must be 0). No worker runs: the requests wait in the database, as they would.

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres; a
database bench_webhooks_<pid> is created there and dropped after) and uses Redis when
BENCH_BROKER_URL (default redis://127.0.0.1:6379/14) answers, else the filesystem broker; the
messages go to a queue of their own ("bench-webhooks"), deleted after the run.
The machine may be shared: the load average is printed beside the figures; read the ratio.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from support import free_port

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
SECRET = "bench-webhook-secret-8c1f0d7e"
IDENTIFIER = "bench-picqer-orders"


def events(count: int = 500) -> list[tuple[bytes, str]]:
    """Signed Picqer orders.created events of about 2 KB, made before the clock starts."""
    made = []
    for i in range(count):
        order = {"idorder": 100_000 + i, "orderid": f"O{i:08d}", "deliveryname": f"Customer {i}",
                 "products": [{"idproduct": 7000 + n, "name": f"Product {n}", "amount": n + 1,
                               "price": 9.95 + n} for n in range(14)]}
        body = json.dumps({"idhook": 12, "name": "bench", "event": "orders.created",
                           "event_triggered_at": "2026-12-01 12:00:00", "data": order}).encode()
        body += b" " * max(0, 2048 - len(body))  # pad to 2 KB: whitespace is still valid JSON
        signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        made.append((body, signature))
    return made


def load(port: int, path: str, seconds: float, connections: int, bodies: list[tuple[bytes, str]],
         tag: str) -> dict:
    """`connections` Python threads posting for `seconds`; latencies of answered requests, by status."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = [0]
    lock = threading.Lock()

    def client(n: int) -> None:
        mine, codes, i = [], {}, n
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            body, signature = bodies[i % len(bodies)]
            i += connections
            started = time.perf_counter()
            try:
                conn.request("POST", f"{path}?n={tag}{n}-{i}", body=body, headers={
                    "Content-Type": "application/json", "X-Picqer-Signature": signature})
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    errors[0] += 1
                continue
            mine.append(time.perf_counter() - started)
            codes[response.status] = codes.get(response.status, 0) + 1
            if response.will_close:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": [(x, 1.0) for x in latencies], "requests": len(latencies),
            "elapsed": time.monotonic() - began, "statuses": statuses, "errors": errors[0], "unanswered": set()}


def wrk_load(port: int, path: str, seconds: float, connections: int, events_file: Path, tag: str) -> dict:
    """The same load from wrk: one thread per connection; latencies as wrk's quantile function.

    wrk keeps a histogram, not every latency: its quantiles (every 0.1 %, every 0.01 % above the
    98th) become points weighted by the share of requests they stand for, so slices combine.
    """
    out = subprocess.run(
        ["wrk", "-t", str(connections), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "30s",
         "-s", str(BASE_DIR / "benchmarks" / "bench_webhooks.lua"), f"http://127.0.0.1:{port}{path}",
         "--", path, str(events_file), tag],
        capture_output=True, text=True, check=True).stdout
    statuses: dict[int, int] = {}
    unanswered: set[str] = set()
    answered, elapsed, errors, quantiles = 0, seconds, 0, []
    for line in out.splitlines():
        kind, *values = line.split()
        if kind == "wrk-duration-us":
            elapsed = int(values[0]) / 1e6
        elif kind == "wrk-errors":
            errors = int(values[0])
        elif kind == "wrk-thread":
            answered += int(values[1])
            if values[0] == "1":  # still in flight when wrk stopped: the server may store it, nobody hears
                unanswered.add(f"n={values[2]}")
        elif kind == "wrk-status":
            statuses[int(values[0])] = statuses.get(int(values[0]), 0) + int(values[1])
        elif kind == "wrk-q":
            quantiles.append((float(values[0]), int(values[1]) / 1e6))
    points, below = [], 0.0
    for percent, latency in quantiles:
        points.append((latency, answered * (percent - below) / 100))
        below = percent
    return {"latencies": points, "requests": answered, "elapsed": elapsed, "statuses": statuses,
            "errors": errors, "unanswered": unanswered}


def quantile(points: list[tuple[float, float]], q: float) -> float:
    """The value below which a share q of the weight lies."""
    total = sum(weight for _, weight in points)
    seen = 0.0
    for value, weight in points:
        seen += weight
        if seen >= q * total:
            return value
    return points[-1][0] if points else 0.0


def combined(runs: list[dict]) -> dict:
    """The figures of several slices of one side, as if they were one run."""
    points = sorted(x for run in runs for x in run["latencies"])
    requests = sum(run["requests"] for run in runs)
    elapsed = sum(run["elapsed"] for run in runs)
    statuses: dict[int, int] = {}
    for run in runs:
        for code, count in run["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    return {"requests": requests, "rps": requests / elapsed, "p50": quantile(points, 0.50) * 1000,
            "p99": quantile(points, 0.99) * 1000, "statuses": statuses,
            "errors": sum(run["errors"] for run in runs),
            "unanswered": set().union(*(run["unanswered"] for run in runs))}


def wait_up(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited early")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("gunicorn did not answer")


def broker_url() -> str:
    url = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return url
    except Exception:
        return "filesystem://"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=6,
                        help="the seconds of each side are split into this many slices, baseline and endpoint "
                             "taking turns, so a change of the machine's load falls on both")
    parser.add_argument("--threads", type=int, default=8,
                        help="gunicorn threads per process (1 = sync workers); both runs use the same server")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto",
                        help="auto: wrk when installed, else Python threads (both sides use the same one)")
    args = parser.parse_args()
    generator = ("wrk" if shutil.which("wrk") else "python") if args.generator == "auto" else args.generator

    admin_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    database = f"bench_webhooks_{os.getpid()}"
    import psycopg

    with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    parts = urlsplit(admin_url)
    bench_url = urlunsplit(parts._replace(path=f"/{database}"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    env = {**os.environ, "DATABASE_URL": bench_url, "CELERY_BROKER_URL": broker_url(),
           "ALUMIO_VAR_DIR": str(tmp / "var"), "DATABASE_CONN_MAX_AGE": "60", "LOG_LEVEL": "WARNING",
           "DJANGO_SETTINGS_MODULE": "alumio_lite.settings", "SECRET_KEY": "bench-" + "x" * 50}
    os.environ.update(env)
    gunicorn = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=BASE_DIR, env=env, check=True)
        import django

        django.setup()
        from connections.models import Incoming
        from webhooks.models import Webhook, WebhookRequest

        incoming = Incoming.objects.create(name="Bench orders", identifier="bench-orders", platform="webhook",
                                           parser={"format": "json", "path": "data"})
        webhook = Webhook.objects.create(
            name="Bench Picqer orders", identifier=IDENTIFIER, preset="picqer", secrets={"hmac": SECRET},
            validators={"hmac": {"header": "X-Picqer-Signature", "algorithm": "sha256", "encoding": "base64",
                                 "prefix": ""}})
        webhook.incomings.add(incoming)
        from django.db import connection

        connection.close()

        port = free_port()
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "alumio_lite.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", str(args.threads), "--pythonpath", str(BASE_DIR / "benchmarks"),
             "--log-level", "warning"],
            cwd=BASE_DIR, env={**env, "DJANGO_SETTINGS_MODULE": "webhooks_baseline_settings"},
            start_new_session=True)
        wait_up(port, gunicorn)
        bodies = events()
        events_file = tmp / "events.txt"
        events_file.write_text("".join(f"{sig}\t{body.decode()}\n" for body, sig in bodies))

        def run(side: str, seconds: float, tag: str) -> dict:
            if generator == "wrk":
                return wrk_load(port, f"/{side}/{IDENTIFIER}", seconds, args.connections, events_file, tag)
            return load(port, f"/{side}/{IDENTIFIER}", seconds, args.connections, bodies, tag)

        run("baseline", 2, "w")  # warm both processes up
        run("webhooks", 2, "w")

        load_before = os.getloadavg()
        slices: dict[str, list[dict]] = {"baseline": [], "webhooks": []}
        for n in range(args.rounds):
            for side in slices:
                slices[side].append(run(side, args.seconds / args.rounds, f"s{n}."))
        baseline, intake = combined(slices["baseline"]), combined(slices["webhooks"])
        load_after = os.getloadavg()
        time.sleep(1)  # requests wrk left in flight finish (or not) on the server; they are not counted
        measured = set(WebhookRequest.objects.filter(query_string__startswith="n=s")
                       .values_list("query_string", flat=True))
        stored = len(measured - intake["unanswered"])
        accepted = intake["statuses"].get(202, 0)

        print(f"bench_webhooks: gunicorn 2 processes x {args.threads} threads, PostgreSQL, "
              f"broker {env['CELERY_BROKER_URL']}, {args.connections} connections x {args.seconds:g} s each "
              f"(in {args.rounds} alternating slices), signed 2 KB JSON events, load generator: "
              f"{'wrk (C)' if generator == 'wrk' else 'Python threads'}")
        print(f"machine: {os.cpu_count()} CPUs, load average {load_before[0]:.2f} before / {load_after[0]:.2f} "
              f"after (shared with other work: read the ratios)")
        for label, result in (("baseline (202, stores nothing)", baseline), ("webhook endpoint", intake)):
            print(f"  {label:32} {result['rps']:8.1f} req/s   p50 {result['p50']:6.1f} ms   "
                  f"p99 {result['p99']:6.1f} ms   answers {result['statuses']}   connection errors "
                  f"{result['errors']}")
        print(f"  throughput ratio endpoint/baseline: {intake['rps'] / baseline['rps']:.2f}  "
              f"(target >= 0.50); p99 {intake['p99']:.1f} ms (target < 50 ms)")
        print(f"  accepted (202) {accepted}, stored {stored}, lost {accepted - stored}"
              + (f"  (left unanswered when wrk stopped: {len(intake['unanswered'])}, not counted)"
                 if generator == "wrk" else ""))
    finally:
        if gunicorn is not None and gunicorn.poll() is None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(30)
        from django.db import connections

        connections.close_all()
        if env["CELERY_BROKER_URL"].startswith("redis://"):
            import redis

            redis.Redis.from_url(env["CELERY_BROKER_URL"]).delete("bench-webhooks")  # the run's messages
        with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    main()

"""The embedded broker: round-trip latency through a real worker, and raw throughput.

1. Latency: a real `celery worker` per broker; for N tasks sent one after another, the time from
   `apply_async()` to the result being readable (result backend: the filesystem for every
   broker, so only the broker differs). Redis, the production broker, is the baseline.
2. Throughput: M messages published, then consumed and acknowledged, with kombu directly (no
   worker), for Redis, kombu's own filesystem transport and ours (alumio_lite.broker: atomic
   writes, crash-safe claims), so the cost of the safety is visible as a ratio.

    python benchmarks/bench_broker.py [--tasks 100] [--messages 2000]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(label: str, broker_env: dict, tasks: int, tmp: Path) -> list[float]:
    results_dir = tmp / f"results-{label}"
    results_dir.mkdir()
    env = {**os.environ, **broker_env, "CELERY_RESULT_BACKEND": f"file://{results_dir}",
           "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "alumio_lite", "worker", "-c", "1",
                               "-Q", "celery,system", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # A fresh interpreter per broker: settings are read once per process.
    code = f"""
import os, time, json, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alumio_lite.settings")
django.setup()
from alumio_lite.celery import app
app.conf.result_backend = os.environ["CELERY_RESULT_BACKEND"]
from connections.tasks import heartbeat
heartbeat.apply_async(ignore_result=False).get(timeout=60)  # warm-up: worker ready, connections open
out = []
for _ in range({tasks}):
    start = time.perf_counter()
    heartbeat.apply_async(ignore_result=False).get(timeout=30, interval=0.005)
    out.append(time.perf_counter() - start)
print(json.dumps(out))
"""
    try:
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
        if done.returncode:
            raise SystemExit(done.stderr[-2000:])
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        worker.terminate()
        worker.wait(30)


def throughput(url: str, transport: str, messages: int, tmp: Path) -> tuple[float, float]:
    """(published per second, consumed+acknowledged per second) with kombu alone."""
    folder = tmp / f"raw-{transport}"
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    code = f"""
import json, sys, time, uuid
sys.path.insert(0, {str(ROOT)!r})
from kombu import Connection
from kombu.transport import TRANSPORT_ALIASES
if {transport!r} == "ours":
    from alumio_lite import broker
    broker.register()
options = {{"data_folder_in": {str(folder / 'queue')!r}, "data_folder_out": {str(folder / 'queue')!r},
           "processed_folder": {str(folder / 'processed')!r}, "control_folder": {str(folder / 'control')!r},
           "store_processed": False, "polling_interval": 0.01}}
body = {{"task": "connections.process_route", "args": [12345], "kwargs": {{}}, "id": str(uuid.uuid4())}}
with Connection({url!r}, transport_options=options) as conn:
    queue = conn.SimpleQueue("bench-" + uuid.uuid4().hex[:6])
    start = time.perf_counter()
    for _ in range({messages}):
        queue.put(body)
    published = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range({messages}):
        queue.get(timeout=30).ack()
    consumed = time.perf_counter() - start
    queue.close()
print(json.dumps([{messages} / published, {messages} / consumed]))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "alumio_lite.settings"})
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    return tuple(json.loads(done.stdout.strip().splitlines()[-1]))


def summary(label: str, samples: list[float], baseline: float | None) -> str:
    ms = sorted(s * 1000 for s in samples)
    median = statistics.median(ms)
    p95 = ms[int(len(ms) * 0.95) - 1]
    ratio = f"{median / baseline:5.1f}x" if baseline else "  1.0x"
    return f"{label:<36} median {median:7.1f} ms   p95 {p95:7.1f} ms   vs redis {ratio}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--redis", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379") + "/14")
    args = parser.parse_args()
    print(f"machine load (1, 5, 15 min): {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        rows = {}
        rows["redis (baseline)"] = measure("redis", {"CELERY_BROKER_URL": args.redis}, args.tasks, tmp)
        for interval in ("1.0", "0.1", "0.02"):
            var = tmp / f"var-{interval}"
            rows[f"filesystem (ours), poll {interval}s"] = measure(
                f"fs{interval}", {"CELERY_BROKER_URL": "filesystem://", "ALUMIO_VAR_DIR": str(var),
                                  "CELERY_BROKER_POLLING_INTERVAL": interval}, args.tasks, tmp)
        rates = {
            "redis (baseline)": throughput(args.redis, "redis", args.messages, tmp),
            "filesystem, kombu's own": throughput("filesystem://", "kombu", args.messages, tmp),
            "filesystem, ours (atomic, crash-safe)": throughput("filesystem://", "ours", args.messages, tmp),
        }
    baseline = statistics.median(rows["redis (baseline)"]) * 1000
    print(f"\nround trip of one task through a worker, {args.tasks} tasks sent one after another")
    for label, samples in rows.items():
        print(summary(label, samples, None if label.startswith("redis") else baseline))
    print(f"\nthroughput with kombu alone, {args.messages} messages published then consumed and acknowledged")
    kombu_in, kombu_out = rates["filesystem, kombu's own"]
    for label, (put, got) in rates.items():
        print(f"{label:<40} publish {put:8.0f}/s   consume+ack {got:8.0f}/s   "
              f"vs kombu's filesystem {put / kombu_in:4.2f}x / {got / kombu_out:4.2f}x")
    print(f"machine load after (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()

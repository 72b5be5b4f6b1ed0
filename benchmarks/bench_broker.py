"""Embedded broker choice: round-trip latency of one task through each broker.

Starts a real `celery worker` per broker and measures, for N tasks sent one after another,
the time from `apply_async()` to the result being readable (result backend: the filesystem,
for every broker, so only the broker differs). Redis is the production broker and the baseline.

    python benchmarks/bench_broker.py [--tasks 100]
"""
import argparse
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
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "alumio_lite", "worker", "-c", "1",
                               "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
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
        import json

        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        worker.terminate()
        worker.wait(30)


def summary(label: str, samples: list[float], baseline: float | None) -> str:
    ms = sorted(s * 1000 for s in samples)
    median = statistics.median(ms)
    p95 = ms[int(len(ms) * 0.95) - 1]
    ratio = f"{median / baseline:5.1f}x" if baseline else "  1.0x"
    return f"{label:<28} median {median:7.1f} ms   p95 {p95:7.1f} ms   vs redis {ratio}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--redis", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379") + "/14")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        rows = {}
        rows["redis (baseline)"] = measure("redis", {"CELERY_BROKER_URL": args.redis}, args.tasks, tmp)
        for interval in ("1.0", "0.1", "0.02"):
            var = tmp / f"var-{interval}"
            rows[f"filesystem, poll {interval}s"] = measure(
                f"fs{interval}", {"CELERY_BROKER_URL": "filesystem://", "ALUMIO_VAR_DIR": str(var),
                                  "CELERY_BROKER_POLLING_INTERVAL": interval}, args.tasks, tmp)
    baseline = statistics.median(rows["redis (baseline)"]) * 1000
    print(f"round trip of one task, {args.tasks} tasks sent one after another")
    for label, samples in rows.items():
        print(summary(label, samples, None if label.startswith("redis") else baseline))


if __name__ == "__main__":
    main()

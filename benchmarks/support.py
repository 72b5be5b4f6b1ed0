"""What several benchmarks share: their environment, real `celery worker` processes, the load average.

Imported by benchmarks/*.py run as scripts (their directory is on sys.path then); it puts the
repository root on sys.path too, so `import support` comes before any project import.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))


def load() -> str:
    """The machine's load average (1, 5, 15 min): every benchmark prints it, the cores are shared."""
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for a server the benchmark starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure(tmp: Path, **extra: str) -> dict:
    """Environment shared by this process and its workers: database, broker, var dir (all under `tmp`).

    SQLite and the filesystem broker unless BENCH_DATABASE_URL / BENCH_BROKER_URL say otherwise.
    The shared rate budget is off unless HTTP_RATE_BUDGET is set: the fakes enforce no limit
    (bench_rate_budget and bench_budget_cost set it per mode). Returns what it set, for workers.
    """
    env = {
        "ALUMIO_VAR_DIR": str(tmp / "var"),
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}"),
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "filesystem://"),
        "DJANGO_SETTINGS_MODULE": "alumio_lite.settings",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    os.environ.setdefault("HTTP_RATE_BUDGET", "0")
    os.environ.update(env)
    return env


def backends() -> str:
    """"database sqlite, broker filesystem": what configure() chose, for the first line printed."""
    database = os.environ["DATABASE_URL"].split(":", 1)[0]
    broker = os.environ["CELERY_BROKER_URL"].split(":", 1)[0]
    return f"database {database}, broker {broker}"


class Worker:
    """One real `celery worker` process (its own session, so stop() ends its pool too)."""

    def __init__(self, env: dict, log: Path, name: str, concurrency: int | None = 1):
        self.log = open(log, "ab")
        cmd = [sys.executable, "-m", "celery", "-A", "alumio_lite", "worker", "--loglevel=WARNING",
               "--without-gossip", "--without-mingle", f"--hostname={name}@%h"]
        if concurrency:  # None: the worker's default (one pool process per CPU)
            cmd.append(f"--concurrency={concurrency}")
        self.proc = subprocess.Popen(cmd, cwd=BASE_DIR, env={**os.environ, **env}, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.log_path = log
        self.pool_size = concurrency or os.cpu_count() or 1

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # the worker prints "ready." at INFO only; at WARNING wait for its pool child instead
            if len(self.children()) >= self.pool_size:
                time.sleep(1.0)
                return
            if self.proc.poll() is not None:
                raise RuntimeError(self.log_path.read_text()[-2000:])
            time.sleep(0.1)
        raise TimeoutError("worker not ready")

    def children(self) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    found.append(int(entry.name))
        return found

    def peak_rss_mb(self) -> dict[str, float]:
        """VmHWM (peak resident set) of the main process and of its pool process, in MB."""
        out = {}
        for label, pid in [("main", self.proc.pid)] + [("pool", pid) for pid in self.children()]:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    out[label] = max(out.get(label, 0), int(line.split()[1]) / 1024)
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def start_workers(env: dict, tmp: Path, label: str, count: int, concurrency: int | None = 1) -> list[Worker]:
    """`count` workers named label-0, label-1…, logging to tmp/label-N.log, each ready to take work."""
    workers = [Worker(env, tmp / f"{label}-{i}.log", f"{label}-{i}", concurrency) for i in range(count)]
    for worker in workers:
        worker.wait_ready()
    return workers


def seed_tasks(route, count: int) -> None:
    """`count` New tasks on `route`, each one person for the fake Pipedrive."""
    from connections.models import Task

    Task.objects.bulk_create(
        (Task(route=route, dedupe_key=str(i), data={"name": f"Person {i}", "email": f"p{i}@example.com"})
         for i in range(count)), batch_size=1000)


def publish(route, total: int, timeout: float, poll: float = 0.5) -> tuple[float, int]:
    """Start publishing `route` on the running workers; (seconds until `total` Finished, how many did)."""
    from connections import tasks as jobs
    from connections.models import Task

    started = time.perf_counter()
    jobs.start_processing(route.pk)
    deadline = time.monotonic() + timeout
    finished = 0
    while time.monotonic() < deadline:
        finished = Task.objects.filter(route=route, status=Task.Status.FINISHED).count()
        if finished >= total:
            break
        time.sleep(poll)
    return time.perf_counter() - started, finished

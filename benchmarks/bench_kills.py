"""Kill test: `manage.py start` (what bin/start runs, default settings) moving N entities from a local fake
Picqer to a local fake Pipedrive, with one kind of process killed part-way through publication.

    python benchmarks/bench_kills.py [--entities 1000] [--scenarios baseline,worker,pool,supervisor,all,sigterm]

Scenarios (each in a fresh var directory: SQLite + the embedded broker, every setting at its default):
- baseline:   nothing killed (the reference time);
- worker:     SIGKILL the user worker's main process (the supervisor starts it again);
- pool:       SIGKILL the worker's pool process (Celery starts a new one);
- supervisor: SIGKILL the supervisor (its children get SIGTERM), then `manage.py start` again;
- all:        SIGKILL the supervisor and every process under it at once, then start again;
- sigterm:    SIGTERM the supervisor (what Ctrl-C does), then start again;
- all-in-run: like "all", but while the run is still reading pages (the source answers a page in 0.3 s and the
              kill comes at page 3), so the run itself must be resumed.

The kill comes once the destination has received a third of the entities (all-in-run: at page 3 of the
run). Printed per scenario: sent (entities the source served), delivered (distinct entities the destination
received), duplicated (received more than once: at-least-once delivery), lost (never received), stuck (tasks
not Finished at the end), the time from the kill until every task is Finished, and the total time as a ratio
to the baseline. Asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from support import BASE_DIR, free_port

SCENARIOS = ["baseline", "worker", "pool", "supervisor", "all", "sigterm", "all-in-run"]
RECOVERY_BUDGET = 20 * 60  # seconds; beyond it the run counts its unfinished tasks as stuck


class Start:
    def __init__(self, var: Path, port: int, log: Path):
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
        env.update(ALUMIO_VAR_DIR=str(var), ALUMIO_ADMIN_PASSWORD="bench password for the kill test")
        self.log_path = log
        self.log = open(log, "ab")
        self.proc = subprocess.Popen([sys.executable, "manage.py", "start", "--port", str(port)], cwd=BASE_DIR,
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, readies: int = 2) -> None:
        deadline = time.monotonic() + 180
        while self.output().count(" ready.") < readies:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"manage.py start did not come up:\n{self.output()[-3000:]}")
            time.sleep(0.2)

    def descendants(self) -> dict[str, list[int]]:
        """role -> pids: the supervisor's children, and the worker's pool processes as "pool"."""
        found: dict[str, list[int]] = {}
        for pid in _children(self.proc.pid):
            cmd = _cmdline(pid)
            role = ("worker" if "--queues=celery" in cmd else "system" if "--queues=system" in cmd
                    else "web" if "runserver" in cmd else "beat" if " beat " in cmd else "other")
            found.setdefault(role, []).append(pid)
            if role == "worker":
                found.setdefault("pool", []).extend(_children(pid))
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def one(scenario: str, entities: int, tmp: Path) -> dict:
    """Run one scenario in this process (its own var directory, so settings are read afresh)."""
    var = tmp / "var"
    os.environ.setdefault("HTTP_RATE_BUDGET", "0")  # the fakes enforce no limit (bench_rate_budget measures it)
    os.environ.update(ALUMIO_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="alumio_lite.settings", LOG_LEVEL="WARNING")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count

    from connections import tasks as jobs
    from connections.models import Run, Task
    from tests.engine.conftest import build_pipeline
    from tests.fakes.platforms import FakePicqer, FakePipedrive

    call_command("migrate", verbosity=0)
    source, destination = FakePicqer(records=entities).start(), FakePipedrive().start()
    destination.delay = 0.01  # a destination answering in 10 ms, so publication lasts long enough to kill
    if scenario == "all-in-run":
        source.delay = 0.3  # pages slow enough to kill the run itself mid-way
    try:
        pipeline = build_pipeline(source, destination, log_requests=False)
        port = free_port()
        app = Start(var, port, tmp / "start.log")
        app.wait_ready()
        started = time.monotonic()
        run = jobs.start_route(pipeline.route)
        killed_at = None
        received_at_kill = 0
        if scenario != "baseline":
            if scenario == "all-in-run":
                while Run.objects.get(pk=run.pk).pages < 3:
                    time.sleep(0.05)
            else:
                while len(destination.published) < entities // 3:
                    time.sleep(0.05)
            received_at_kill = len(destination.published)
            roles = app.descendants()
            killed_at = time.monotonic()
            if scenario == "worker":
                os.kill(roles["worker"][0], signal.SIGKILL)
            elif scenario == "pool":
                os.kill(roles["pool"][0], signal.SIGKILL)
            elif scenario == "supervisor":
                app.proc.kill()
            elif scenario in ("all", "all-in-run"):
                everyone = [pid for pids in roles.values() for pid in pids]
                app.proc.kill()
                for pid in everyone:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            elif scenario == "sigterm":
                app.proc.send_signal(signal.SIGTERM)
            if scenario in ("supervisor", "all", "sigterm", "all-in-run"):
                app.proc.wait(120)
                # the old children end on their own (warmly after SIGTERM); then start again
                deadline = time.monotonic() + 120
                while any(_cmdline(p) for pids in roles.values() for p in pids) and time.monotonic() < deadline:
                    time.sleep(0.2)
                app.log.close()
                app = Start(var, port, tmp / "start.log")
        done = None
        deadline = time.monotonic() + RECOVERY_BUDGET
        while time.monotonic() < deadline:
            finished = Task.objects.filter(route=pipeline.route, status=Task.Status.FINISHED).count()
            if finished == entities and Run.objects.get(pk=run.pk).status == Run.Status.FINISHED:
                done = time.monotonic()
                break
            time.sleep(0.5)
        names = [r.body.get("name") for r in destination.published if isinstance(r.body, dict)]
        statuses = dict(Task.objects.filter(route=pipeline.route).values_list("status").annotate(n=Count("id")))
        result = {
            "scenario": scenario, "sent": entities, "delivered": len(set(names)),
            "duplicated": len(names) - len(set(names)), "lost": entities - len(set(names)),
            "stuck": sum(n for s, n in statuses.items() if s != Task.Status.FINISHED),
            "received_at_kill": received_at_kill,
            "recover_s": round(done - killed_at, 1) if done and killed_at else None,
            "total_s": round(done - started, 1) if done else None,
            "resumes": Run.objects.get(pk=run.pk).resumes,
        }
        app.stop()
        return result
    finally:
        source.stop()
        destination.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(one(args.one, args.entities, Path(tmp))))
        return
    print(f"machine load (1, 5, 15 min): {os.getloadavg()}")
    results = []
    for scenario in args.scenarios.split(","):
        done = subprocess.run([sys.executable, __file__, "--one", scenario, "--entities", str(args.entities)],
                              cwd=BASE_DIR, capture_output=True, text=True, timeout=RECOVERY_BUDGET + 600)
        if done.returncode:
            print(f"{scenario}: failed\n{done.stderr[-2000:]}")
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    baseline = next((r["total_s"] for r in results if r["scenario"] == "baseline"), None)
    print(f"\n{args.entities} entities, kill after a third was received; default settings (SQLite, embedded broker)")
    print(f"{'killed':<11} {'sent':>5} {'delivered':>9} {'dupl.':>5} {'lost':>5} {'stuck':>5} "
          f"{'recover':>8} {'total':>7} {'vs none':>7} resumes")
    for r in results:
        ratio = f"{r['total_s'] / baseline:6.2f}x" if baseline and r["total_s"] else "      -"
        recover = f"{r['recover_s']:7.1f}s" if r["recover_s"] is not None else "       -"
        total = f"{r['total_s']:6.1f}s" if r["total_s"] is not None else "      -"
        print(f"{r['scenario']:<11} {r['sent']:>5} {r['delivered']:>9} {r['duplicated']:>5} {r['lost']:>5} "
              f"{r['stuck']:>5} {recover} {total} {ratio} {r['resumes']}")
    print(f"machine load after (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()

"""`manage.py start` (bin/start) under crashes, with real processes: a child that dies is started again
while the rest keep running; a supervisor killed with SIGKILL leaves no orphans, and starting again
afterwards works; the dashboard's address follows PUBLIC_BASE_URL."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management.base import CommandError

from alumio_lite.management.commands import start

from .test_start_command import ROOT, free_port, wait_until


class Start:
    """A `manage.py start` process with its own var directory and port."""

    def __init__(self, tmp_path: Path, port: int, **extra_env):
        self.tmp_path, self.port = tmp_path, port
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG",
                            "PUBLIC_BASE_URL", "ALLOWED_HOSTS")}
        env.update(ALUMIO_VAR_DIR=str(tmp_path / "var"), ALUMIO_ADMIN_USER="owner",
                   ALUMIO_ADMIN_PASSWORD="a long local password", PYTHONUNBUFFERED="1", **extra_env)
        self.log_path = tmp_path / f"start-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "manage.py", "start", "--port", str(port)], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{self.port}/accounts/login/", timeout=2).status_code == 200,
                   120, "the dashboard")
        wait_until(lambda: self.output().count(" ready.") >= 2, 120, "both workers")

    def children(self) -> dict[str, int]:
        """The supervisor's children by role, from their command lines."""
        found = {}
        listing = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        for pid in map(int, listing):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            for role, mark in (("web", "runserver"), ("worker", "--queues=celery"), ("system", "--queues=system"),
                               ("beat", " beat ")):
                if mark in cmdline:
                    found[role] = pid
        return found

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
        return self.proc.returncode


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie waiting for its (dead) parent's reaper is gone for every purpose here
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_a_worker_that_dies_is_started_again_while_the_rest_keep_running(tmp_path):
    port = free_port()
    app = Start(tmp_path, port, PUBLIC_BASE_URL=f"http://localhost:{port}")
    try:
        app.wait_ready()
        assert f"Dashboard: http://localhost:{port}/" in app.output()  # the address OAuth sends users back to
        before = app.children()
        assert set(before) == {"web", "worker", "system", "beat"}, app.output()[-3000:]

        os.kill(before["worker"], signal.SIGKILL)

        wait_until(lambda: "worker started again" in app.output(), 60, "the worker's restart")
        assert "worker was stopped by signal 9; starting it again in 1 s" in app.output()
        wait_until(lambda: app.output().count(" ready.") >= 3, 120, "the new worker to be ready")
        after = app.children()
        assert after["worker"] != before["worker"]
        assert {after[k] for k in ("web", "system", "beat")} == {before[k] for k in ("web", "system", "beat")}
        assert requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=5).status_code == 200
    finally:
        code = app.stop()
    assert code == 0, app.output()[-3000:]
    assert "did not stop in time" not in app.output()


@pytest.mark.slow
def test_a_killed_supervisor_leaves_no_orphans_and_starting_again_works(tmp_path):
    port = free_port()
    first = Start(tmp_path, port)
    try:
        first.wait_ready()
        children = first.children()
        assert set(children) == {"web", "worker", "system", "beat"}, first.output()[-3000:]

        first.proc.kill()  # SIGKILL: no chance to stop anything itself
        first.proc.wait(10)

        wait_until(lambda: not any(alive(pid) for pid in children.values()), 90, "the children to end")
    finally:
        first.stop()
        for pid in first.children().values():  # should be none; never leave a process behind
            os.kill(pid, signal.SIGKILL)

    second = Start(tmp_path, port)  # the same port and var directory
    try:
        second.wait_ready()
        assert "already" not in second.output() and "not free" not in second.output()
    finally:
        code = second.stop()
    assert code == 0, second.output()[-3000:]


def test_a_busy_port_is_refused_with_what_to_do():
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(CommandError, match=rf"127.0.0.1:{port} is not free .*ALUMIO_PORT"):
            start.refuse_a_busy_port("127.0.0.1", port)


def test_a_second_start_for_the_same_var_directory_is_refused(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    held = start.hold_the_start_lock()
    try:
        code = f"""
import fcntl, sys
lock = open({str(tmp_path / 'start.lock')!r}, "a+")
try:
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    sys.exit(3)
"""
        assert subprocess.run([sys.executable, "-c", code]).returncode == 3  # another process can't take it
        assert (tmp_path / "start.lock").read_text() == str(os.getpid())
    finally:
        held.close()


@pytest.mark.parametrize("public, given, expected", [
    ("http://127.0.0.1:8000", (None, None), ("127.0.0.1", 8000, "http://127.0.0.1:8000/")),
    ("http://localhost:8000", (None, None), ("127.0.0.1", 8000, "http://localhost:8000/")),
    ("http://localhost:9000", (None, None), ("127.0.0.1", 9000, "http://localhost:9000/")),
    ("http://localhost:9000", (None, 8500), ("127.0.0.1", 8500, "http://localhost:8500/")),
    ("https://alumio.example.com", (None, None), ("127.0.0.1", 8000, "https://alumio.example.com/")),
])
def test_the_dashboard_address_follows_public_base_url(settings, public, given, expected):
    settings.PUBLIC_BASE_URL = public
    assert start.listen_address(*given) == expected

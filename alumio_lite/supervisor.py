"""The process supervisor behind `manage.py start` (bin/start).

- Starts each child in a session of its own (Ctrl-C reaches only the supervisor, which stops
  them in order) through `orphan_guard.py`, so they die with the supervisor even when it is
  killed with SIGKILL.
- Prefixes their output with their name.
- Restarts a child that exits, with a growing pause (1 s, 2 s, 4 s ... at most a minute; back to
  1 s once it has run for a minute), saying so, instead of stopping everything.
- Ctrl-C or SIGTERM stops all of them warmly: a worker finishes the publication in hand and
  hands the rest back (connections.lifecycle), so it exits within seconds.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

GUARD = str(Path(__file__).with_name("orphan_guard.py"))
MAX_PAUSE = 60.0  # seconds between restarts of a child that keeps failing
STABLE_AFTER = 60.0  # a child that ran this long starts again after the shortest pause
STOP_GRACE = 30.0  # seconds a child may take to stop before it is killed


class Supervisor:
    def __init__(self, commands: dict[str, list[str]], stdout, on_started=None):
        self.commands = commands
        self.stdout = stdout
        self.on_started = on_started  # called once every child has been started
        self.children: dict[str, subprocess.Popen | None] = {}
        self.started_at: dict[str, float] = {}
        self.failures: dict[str, int] = dict.fromkeys(commands, 0)
        self.restart_at: dict[str, float] = {}
        self.stopping = False
        self._write_lock = threading.Lock()

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        for name in self.commands:
            self._start(name)
        self._write("start", f"running {', '.join(self.commands)}; press Ctrl-C to stop")
        if self.on_started:
            self.on_started()
        while not self.stopping:
            now = time.monotonic()
            for name, child in list(self.children.items()):
                if child is None:
                    if now >= self.restart_at[name]:
                        self._start(name)
                        self._write("start", f"{name} started again")
                elif child.poll() is not None:
                    self._schedule_restart(name, child.returncode, now)
            time.sleep(0.2)
        self._stop_all()
        return 0

    def _start(self, name: str) -> None:
        command = [sys.executable, GUARD, str(os.getpid()), *self.commands[name]]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.children[name] = child
        self.started_at[name] = time.monotonic()
        threading.Thread(target=self._pump, args=(name, child), daemon=True).start()

    def _schedule_restart(self, name: str, code: int, now: float) -> None:
        if now - self.started_at[name] >= STABLE_AFTER:
            self.failures[name] = 0
        pause = min(MAX_PAUSE, 2.0 ** self.failures[name])
        self.failures[name] += 1
        how = f"was stopped by signal {-code}" if code < 0 else f"exited with code {code}"
        self._write("start", f"{name} {how}; starting it again in {pause:g} s "
                             f"(the other processes keep running)")
        self.children[name] = None
        self.restart_at[name] = now + pause

    def _on_signal(self, signum, frame) -> None:
        self.stopping = True

    def _stop_all(self) -> None:
        self._write("start", "stopping: the worker finishes the publication in hand and hands the rest back")
        running = {name: child for name, child in self.children.items() if child is not None}
        for child in running.values():
            if child.poll() is None:
                # The main process only: Celery then shuts its pool down warmly; signalling the
                # whole group would kill the pool mid-task.
                child.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for name, child in running.items():
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._write("start", f"{name} did not stop in time; killing it (its work returns at the next start)")
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self._write("start", "stopped")

    def _pump(self, name: str, child: subprocess.Popen) -> None:
        for line in iter(child.stdout.readline, b""):
            self._write(name, line.decode(errors="replace").rstrip())

    def _write(self, name: str, text: str) -> None:
        with self._write_lock:
            self.stdout.write(f"{name:>6} | {text}")
            self.stdout.flush()

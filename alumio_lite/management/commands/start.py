"""`manage.py start`: everything a local user needs, in one terminal.

Migrates, collects static files, installs the default schedules, makes sure an admin
account exists, then runs the dashboard, a Celery worker and Celery beat side by side.
Ctrl-C (or SIGTERM) stops all three; if one of them dies, the others are stopped too.
"""
import os
import secrets
import signal
import subprocess
import sys
import threading
import time

from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the dashboard, a Celery worker and the scheduler together (local use)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("ALUMIO_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("ALUMIO_PORT", "8000")))
        parser.add_argument("--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "2")))
        parser.add_argument("--no-worker", action="store_true", help="run the dashboard only")

    def handle(self, *args, host, port, concurrency, no_worker, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if "setup_schedules" in get_commands():
            call_command("setup_schedules", verbosity=0)
        self.ensure_admin(f"http://{host}:{port}/")

        python = sys.executable
        processes = {
            "web": [python, "manage.py", "runserver", f"{host}:{port}", "--noreload", "--skip-checks"],
        }
        if not no_worker:
            processes["worker"] = [python, "-m", "celery", "-A", "alumio_lite", "worker", "--loglevel=INFO",
                                   f"--concurrency={concurrency}", "--without-gossip", "--without-mingle"]
            processes["beat"] = [python, "-m", "celery", "-A", "alumio_lite", "beat", "--loglevel=INFO",
                                 "--pidfile="]
        sys.exit(Supervisor(processes, self.stdout).run())

    def ensure_admin(self, url: str) -> None:
        """Create the first admin from ALUMIO_ADMIN_USER/ALUMIO_ADMIN_PASSWORD, or with a random password."""
        User = get_user_model()
        username = os.environ.get("ALUMIO_ADMIN_USER", "admin")
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(self.style.SUCCESS(f"Dashboard: {url}  (sign in with your admin account)"))
            return
        password = os.environ.get("ALUMIO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username, os.environ.get("ALUMIO_ADMIN_EMAIL", ""), password)
        shown = password if not os.environ.get("ALUMIO_ADMIN_PASSWORD") else "(from ALUMIO_ADMIN_PASSWORD)"
        self.stdout.write(self.style.SUCCESS(
            f"Created the first admin account.\n  Dashboard: {url}\n  User name: {username}\n  Password:  {shown}\n"
            "  Change it under Django admin -> Users once signed in."))


class Supervisor:
    """Start child processes, prefix their output, stop them all together."""

    def __init__(self, commands: dict[str, list[str]], stdout):
        self.commands = commands
        self.stdout = stdout
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        for name, cmd in self.commands.items():
            # A session of their own: Ctrl-C reaches only us, and we stop them in order.
            child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
            self.children[name] = child
            threading.Thread(target=self._pump, args=(name, child), daemon=True).start()
        self._write("start", f"running {', '.join(self.children)}; press Ctrl-C to stop")
        if "worker" in self.children:
            # A first heartbeat so the dashboard shows the worker at once, not after beat's first tick.
            from connections.tasks import heartbeat

            heartbeat.delay()
        exit_code = 0
        while not self.stopping:
            for name, child in self.children.items():
                if child.poll() is not None:
                    self._write("start", f"{name} exited with code {child.returncode}; stopping the rest")
                    exit_code = child.returncode or 1
                    self.stopping = True
                    break
            time.sleep(0.3)
        self._stop_all()
        return exit_code

    def _on_signal(self, signum, frame):
        self.stopping = True

    def _stop_all(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                # The main process only: Celery then shuts its pool down warmly, finishing
                # the task in hand; signalling the whole group would kill the pool mid-task.
                child.terminate()
        deadline = time.monotonic() + 20
        for name, child in self.children.items():
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._write("start", f"{name} did not stop in time; killing it")
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self._write("start", "stopped")

    def _pump(self, name: str, child: subprocess.Popen) -> None:
        for line in iter(child.stdout.readline, b""):
            self._write(name, line.decode(errors="replace").rstrip())

    def _write(self, name: str, text: str) -> None:
        self.stdout.write(f"{name:>6} | {text}")
        self.stdout.flush()

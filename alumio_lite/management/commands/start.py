"""`manage.py start`: everything a local user needs, in one terminal.

Migrates, collects static files, installs the default schedules, makes sure an admin
account exists, then runs the dashboard, a Celery worker for user work, a worker for the system
jobs (heartbeat, repair, due tasks, retention) and Celery beat side by side under a supervisor
(alumio_lite/supervisor.py): a process that dies is started again, Ctrl-C (or SIGTERM) stops
them all, and none outlives the supervisor.
"""
import fcntl
import os
import secrets
import socket
import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from alumio_lite.supervisor import Supervisor

LOCAL_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]"}


class Command(BaseCommand):
    help = "Run the dashboard, the Celery workers and the scheduler together (local use)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("ALUMIO_HOST"))
        parser.add_argument("--port", type=int, default=os.environ.get("ALUMIO_PORT"))
        parser.add_argument("--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "2")))
        parser.add_argument("--no-worker", action="store_true", help="run the dashboard only")

    def handle(self, *args, host, port, concurrency, no_worker, **options):
        host, port, url = listen_address(host, port)
        self._lock = hold_the_start_lock()
        refuse_a_busy_port(host, port)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if "setup_schedules" in get_commands():
            call_command("setup_schedules", verbosity=0)
        self.ensure_admin(url)

        python = sys.executable
        celery = [python, "-m", "celery", "-A", "alumio_lite"]
        quiet = ["--loglevel=INFO", "--without-gossip", "--without-mingle"]
        processes = {
            "web": [python, "manage.py", "runserver", f"{host}:{port}", "--noreload", "--skip-checks"],
        }
        if not no_worker:
            # Two workers on one host need distinct node names (remote control tells them apart).
            processes["worker"] = [*celery, "worker", *quiet, f"--concurrency={concurrency}", "--queues=celery",
                                   "--hostname=worker@%h"]
            processes["system"] = [*celery, "worker", *quiet, "--concurrency=1",
                                   f"--queues={settings.SYSTEM_QUEUE}", "--hostname=system@%h"]
            processes["beat"] = [*celery, "beat", "--loglevel=INFO", "--pidfile="]
        sys.exit(Supervisor(processes, self.stdout, on_started=None if no_worker else first_heartbeat).run())

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
            "  Change it under Settings -> Users once signed in."))


def first_heartbeat() -> None:
    """A heartbeat at once, so the dashboard shows the workers before beat's first tick."""
    from connections.tasks import heartbeat

    heartbeat.delay()


def listen_address(host: str | None, port: int | str | None) -> tuple[str, int, str]:
    """(host, port) to listen on and the dashboard's address to print.

    The printed address is PUBLIC_BASE_URL when it names another host than this machine's
    loopback names: OAuth providers send the user back there after Grant access, and a user
    who started on 127.0.0.1 would land on another host, signed out. Without --host/ALUMIO_HOST
    the dashboard then listens where that address leads: a plain-HTTP address of this machine
    (e.g. a LAN IP) and its port; otherwise (a proxy in front) on 127.0.0.1.
    """
    public = urlsplit(settings.PUBLIC_BASE_URL)
    public_host = public.hostname or "127.0.0.1"
    public_port = public.port or (443 if public.scheme == "https" else 80)
    direct = public.scheme == "http" and (public_host in LOCAL_NAMES or _is_local_address(public_host))
    if host is None:
        host = public_host if direct and public_host not in LOCAL_NAMES else "127.0.0.1"
    if port is None:
        port = public_port if direct and public.port else 8000
    port = int(port)
    if public_host not in LOCAL_NAMES:
        return host, port, settings.PUBLIC_BASE_URL + "/"
    shown = public_host if public_host == "localhost" else host  # the name the redirect URIs use
    return host, port, f"http://{shown}:{port}/"


def _is_local_address(name: str) -> bool:
    """True when `name` resolves to an address this machine can listen on."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)}
    except OSError:
        return False
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((address, 0))
                return True
            except OSError:
                continue
    return False


def refuse_a_busy_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            raise CommandError(
                f"{host}:{port} is not free ({exc.strerror}). Another program listens there; stop it, or "
                f"choose another port with ALUMIO_PORT=8001 bin/start (or --port).") from None


def hold_the_start_lock():
    """One `start` per var directory: a second one would fight over the port and the broker."""
    path = settings.VAR_DIR / "start.lock"
    lock = open(path, "a+")  # noqa: SIM115 - held open for the life of the process
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.seek(0)
        raise CommandError(f"bin/start is already running for {settings.VAR_DIR} (pid {lock.read().strip() or '?'});"
                           " stop it with Ctrl-C first.") from None
    lock.seek(0)
    lock.truncate()
    lock.write(str(os.getpid()))
    lock.flush()
    return lock  # the kernel releases the lock when this process ends, however it ends

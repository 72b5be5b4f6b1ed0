"""`manage.py worker_alive`: exit 0 when a worker wrote a heartbeat recently (for health checks)."""
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from connections.models import WorkerHeartbeat


class Command(BaseCommand):
    help = "Succeed when a Celery worker has written a heartbeat within --max-age seconds."

    def add_arguments(self, parser):
        parser.add_argument("--max-age", type=int, default=int(WorkerHeartbeat.ONLINE_WINDOW.total_seconds()))

    def handle(self, *args, max_age, **options):
        since = timezone.now() - timedelta(seconds=max_age)
        latest = WorkerHeartbeat.objects.filter(seen_at__gte=since).order_by("-seen_at").first()
        if latest is None:
            raise CommandError(f"no worker heartbeat in the last {max_age} s: is the worker (and beat) running?")
        self.stdout.write(f"{latest.hostname} seen {int((timezone.now() - latest.seen_at).total_seconds())} s ago")

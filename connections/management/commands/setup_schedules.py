"""`manage.py setup_schedules`: install the default periodic jobs for Celery beat (idempotent).

`manage.py start` runs it after migrating. The jobs are PeriodicTask rows (django-celery-beat's
DatabaseScheduler reads them), so they show on the Schedulers page and can be paused there.
"""
from django.core.management.base import BaseCommand
from django.db import transaction

from connections.schedules import install_default_jobs


class Command(BaseCommand):
    help = "Install the default periodic jobs: heartbeat, repair, due-task processing, retention."

    def handle(self, *args, **options):
        with transaction.atomic():
            names = install_default_jobs()
        for name in names:
            self.stdout.write(f"  {name}")
        self.stdout.write(f"{len(names)} default periodic jobs installed.")

"""`manage.py run_route ID`: run a route's incoming, then publish the route's tasks."""
from django.core.management.base import BaseCommand

from connections import engine
from connections.models import Route

from ._engine_cli import find, run_line


class Command(BaseCommand):
    help = "Run a route now: its incoming configuration, then the publication of its tasks."

    def add_arguments(self, parser):
        parser.add_argument("route", help="id or identifier of the route")
        parser.add_argument("--sync", action="store_true", help="run here, without a broker or worker")

    def handle(self, *args, route: str, sync: bool, **options):
        config = find(Route, route)
        if not sync:
            from connections.tasks import start_route

            run = start_route(config, trigger="cli")
            self.stdout.write(f"Run {run.pk} of route “{config}” queued for a worker.")
            return
        run = engine.start_run(config.incoming, trigger="cli")
        self.stdout.write(f"Route “{config}”: run {run.pk} of “{config.incoming}” started.")
        run = engine.execute_run(
            run.pk, progress=lambda r: self.stdout.write(f"  page {r.pages}: {r.tasks_created} tasks so far"))
        self.stdout.write(run_line(run))
        summary = engine.process_tasks(
            config.pk, progress=lambda s: self.stdout.write(f"  published {s.claimed} tasks so far"))
        self.stdout.write(f"Route “{config}”: {summary}.")
        if summary.retry_at:
            self.stdout.write(f"Waiting tasks are due again from {summary.retry_at:%Y-%m-%d %H:%M:%S}.")
        if run.status == "failed" or summary.failed:
            raise SystemExit(1)

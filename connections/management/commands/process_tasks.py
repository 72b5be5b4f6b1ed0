"""`manage.py process_tasks [--route ID]`: publish the due tasks of one route or of all routes."""
from django.core.management.base import BaseCommand

from connections import engine
from connections.models import Route

from ._engine_cli import find


class Command(BaseCommand):
    help = "Publish due tasks (New, and Waiting ones whose time has come)."

    def add_arguments(self, parser):
        parser.add_argument("--route", help="id or identifier of a route (default: every enabled route)")
        parser.add_argument("--sync", action="store_true", help="publish here, without a broker or worker")
        parser.add_argument("--limit", type=int, default=None, help="publish at most this many tasks")

    def handle(self, *args, route: str | None, sync: bool, limit: int | None, **options):
        config = find(Route, route) if route else None
        route_id = config.pk if config else None
        where = f"route “{config}”" if config else "all routes"
        due = engine.due_tasks(route_id).count()
        if not sync:
            from connections.tasks import process_route

            process_route.delay(route_id)
            self.stdout.write(f"{due} due tasks of {where}: publication queued for a worker.")
            return
        self.stdout.write(f"{due} due tasks of {where}.")
        summary = engine.process_tasks(
            route_id, max_tasks=limit,
            progress=lambda s: self.stdout.write(f"  {s.claimed} processed ({s.finished} finished, "
                                                 f"{s.waiting} waiting, {s.failed} failed)"))
        self.stdout.write(f"Done: {summary}.")
        if summary.retry_at:
            self.stdout.write(f"Waiting tasks are due again from {summary.retry_at:%Y-%m-%d %H:%M:%S}.")

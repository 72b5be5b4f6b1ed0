"""`manage.py run_incoming ID`: run an incoming configuration (subscribe) now."""
from django.core.management.base import BaseCommand

from connections import engine
from connections.models import Incoming

from ._engine_cli import find, run_line


class Command(BaseCommand):
    help = "Run an incoming configuration: read its pages and create tasks for its routes."

    def add_arguments(self, parser):
        parser.add_argument("incoming", help="id or identifier of the incoming configuration")
        parser.add_argument("--sync", action="store_true",
                            help="run here, in this process, without a broker or worker; realtime routes "
                                 "publish their tasks here too")

    def handle(self, *args, incoming: str, sync: bool, **options):
        config = find(Incoming, incoming)
        if not sync:
            from connections.tasks import start_run

            run = start_run(config, trigger="cli")
            self.stdout.write(f"Run {run.pk} of “{config}” queued for a worker.")
            return
        run = engine.start_run(config, trigger="cli")
        self.stdout.write(f"Run {run.pk} of “{config}” started.")

        def publish(route_ids: list[int]) -> None:
            for route_id in route_ids:
                summary = engine.process_tasks(route_id)
                self.stdout.write(f"  route {route_id}: {summary}")

        def page_done(run) -> None:
            self.stdout.write(f"  page {run.pages}: {run.entities} entities so far, {run.tasks_created} tasks")

        run = engine.execute_run(run.pk, notify=publish, progress=page_done)
        self.stdout.write(run_line(run))
        if run.status == "failed":
            raise SystemExit(1)

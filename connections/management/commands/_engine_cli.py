"""Shared bits of the management commands (run_incoming, run_route, process_tasks, export_config)."""
from __future__ import annotations

from django.core.management.base import CommandError
from django.db.models import Model

from connections.run_summary import unchanged_note


def find(model: type[Model], ref: str) -> Model:
    """A configuration by primary key or identifier, or a clear CommandError."""
    lookup = {"pk": int(ref)} if ref.isdigit() else {"identifier": ref}
    try:
        return model.objects.get(**lookup)
    except model.DoesNotExist:
        label = model._meta.verbose_name
        known = ", ".join(f"{o.pk} ({o.identifier})" for o in model.objects.order_by("pk")[:20]) or "none yet"
        raise CommandError(f"no {label} with id or identifier {ref!r}; known: {known}") from None


def run_line(run) -> str:
    duration = ""
    if run.started_at and run.finished_at:
        duration = f" in {(run.finished_at - run.started_at).total_seconds():.1f} s"
    line = (f"Run {run.pk} {run.get_status_display().lower()}{duration}: {run.pages} pages, "
            f"{run.entities} entities, {run.filtered} filtered, {run.tasks_created} tasks created")
    note = unchanged_note(run, run.incoming.routes.count())
    if note:
        line += f"\n  {note}"
    if run.error:
        line += f"\n  Error at {run.error_step or 'start'}: {run.error}"
    return line

"""Plain words for what a finished run's counters mean, shared by the run page and the CLI.

A run that reads records it has already turned into tasks makes no new task for them (tasks are
deduplicated on the record's id and content), so "250 entities, 0 tasks created" is normal for
a second run over unchanged data; without a sentence it looks like a fault.
"""
from __future__ import annotations

from .models import Run


def unchanged_note(run: Run, route_count: int) -> str:
    """Why a finished run created fewer tasks than it read entities, or "" when nothing needs saying."""
    if run.status != Run.Status.FINISHED or route_count == 0:
        return ""
    passed = run.entities - run.filtered
    if passed <= 0:
        return ""
    if run.tasks_created == 0:
        return (f"No new tasks: the {passed} entities read are unchanged since an earlier run (a task is made "
                "only for a new or changed record), or the route's transformers dropped them.")
    if run.tasks_created < passed * route_count:
        return ("Fewer tasks than entities: records unchanged since an earlier run make no new task, "
                "and route transformers may drop some.")
    return ""

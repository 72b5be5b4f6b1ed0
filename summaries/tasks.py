"""Periodic jobs that keep the summaries exact (installed by connections.schedules)."""
from celery import shared_task

from . import maintenance


@shared_task(name="summaries.fold")
def fold() -> str:
    """Often: add pending count deltas into the counts (PostgreSQL), so reads stay small."""
    maintenance.fold()
    return "folded"


@shared_task(name="summaries.reconcile")
def reconcile() -> dict:
    """Hourly: compare the task counts with a fresh COUNT and correct any difference."""
    return maintenance.reconcile()

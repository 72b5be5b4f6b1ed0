"""Celery tasks for webhooks: process one stored request, sweep for missed ones, retention."""
from __future__ import annotations

import logging

from celery import shared_task

from . import processing

log = logging.getLogger(__name__)


@shared_task(name="webhooks.process_request")
def process_request(request_id: int) -> str:
    """Turn one stored request into tasks (a no-op when it is done or another worker holds it)."""
    request = processing.process(request_id)
    if request is None:
        return f"request {request_id}: nothing to do"
    return f"request {request_id}: {request.status}, {request.entities} entities, {request.tasks_created} tasks"


@shared_task(name="webhooks.process_pending")
def process_pending() -> str:
    """Periodic: requests whose message was lost, and claims whose worker died, are processed now."""
    return f"{processing.process_pending()} webhook requests processed"


@shared_task(name="webhooks.prune")
def prune() -> str:
    """Periodic (daily): delete webhook requests past their retention."""
    return f"{processing.prune()} webhook requests deleted"


def notify_worker(request_id: int) -> None:
    """Tell a worker about a stored request. Never raises: the sweep catches what a lost message misses."""
    try:
        # No publish retries: the sender already has its answer, and the sweep is the safety net.
        process_request.apply_async((request_id,), retry=False)
    except Exception as exc:  # the broker is down or slow: the request is stored, nothing is lost
        log.warning("could not queue webhook request %s (%s); the periodic sweep will process it",
                    request_id, exc.__class__.__name__)

"""Celery tasks for webhooks: process one stored request, sweep for missed ones, retention."""
from __future__ import annotations

import logging
import threading
import time

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
    """Tell a worker about one request (a replay). Never raises: the sweep catches what a lost message misses."""
    try:
        # No publish retries: the sender already has its answer, and the sweep is the safety net.
        process_request.apply_async((request_id,), retry=False)
    except Exception as exc:  # the broker is down or slow: the request is stored, nothing is lost
        log.warning("could not queue webhook request %s (%s); the periodic sweep will process it",
                    request_id, exc.__class__.__name__)


class Announcer:
    """Tells the workers that stored requests wait, with at most one message per WINDOW per process.

    One broker message per request cost more than storing the request itself, and a message per
    request is not needed: process_pending drains every waiting request. announce() is called
    after a request's commit; it sends a message now when none went out in the last WINDOW, else
    schedules one at the window's end. A message that is due but not yet sent covers every
    request announced before it, so each committed request is followed by a message sent after
    its commit (the worker's scan, started by that message, sees it). A process that dies with a
    message scheduled leaves its requests to the periodic sweep: late, never lost.
    """

    WINDOW = 0.2  # seconds

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._last = 0.0

    def announce(self) -> None:
        with self._lock:
            if self._timer is not None:
                return  # a message is due and not sent yet: it covers this request too
            delay = max(0.0, self._last + self.WINDOW - time.monotonic())
            self._timer = threading.Timer(delay, self._send)
            self._timer.daemon = True
            self._timer.start()

    def _send(self) -> None:
        with self._lock:
            self._timer = None  # from here on, a new request schedules a new message
            self._last = time.monotonic()
        try:
            process_pending.apply_async(retry=False)
        except Exception as exc:  # the broker is down or slow: the requests are stored, nothing is lost
            log.warning("could not tell the workers about stored webhook requests (%s); the periodic "
                        "sweep will process them", exc.__class__.__name__)


announcer = Announcer()

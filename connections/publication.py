"""Publication: claim due tasks in batches and publish them, until none are due or a limit is reached."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from .claiming import CLAIM_BATCH, claim_tasks, hand_back
from .models import Task
from .publisher import Publisher, PublishOutcome


@dataclass
class ProcessSummary:
    """What process_tasks() did; `retry_at` is the earliest time a Waiting task becomes due."""

    claimed: int = 0
    finished: int = 0
    failed: int = 0
    waiting: int = 0
    skipped: int = 0
    retry_at: datetime | None = None
    rate_limited_until: datetime | None = None  # set when a platform answered 429 during this call
    handed_back: int = 0  # claimed but returned to New unpublished (the worker was shutting down)
    routes: set = field(default_factory=set)

    def add(self, task_id: int, route_id: int, outcome: PublishOutcome) -> None:
        self.claimed += 1
        self.routes.add(route_id)
        key = {Task.Status.FINISHED: "finished", Task.Status.FAILED: "failed", Task.Status.WAITING: "waiting",
               Task.Status.SKIPPED: "skipped"}.get(outcome.status)
        if key:
            setattr(self, key, getattr(self, key) + 1)
        if outcome.retry_at and (self.retry_at is None or outcome.retry_at < self.retry_at):
            self.retry_at = outcome.retry_at

    def __str__(self) -> str:
        return (f"{self.claimed} tasks processed: {self.finished} finished, {self.waiting} waiting, "
                f"{self.failed} failed, {self.skipped} skipped")

def process_tasks(route_id: int | None = None, *, waiting_only: bool = False, batch_size: int = CLAIM_BATCH,
                  max_tasks: int | None = None,
                  max_seconds: float | None = None, progress: Callable[[ProcessSummary], None] | None = None,
                  stop: Callable[[], bool] | None = None) -> ProcessSummary:
    """Claim and publish due tasks in batches until none are due (or a limit is reached).

    One call handles many tasks with one session per client: publishing one task per broker
    message would cost a message round trip per entity. Several workers may run this at once
    for the same route; claims never overlap. When `stop()` turns true (the worker is shutting
    down), the task in hand is finished and the rest of the claimed batch goes back to New.
    """
    summary = ProcessSummary()
    publisher = Publisher()
    try:
        _process(publisher, summary, route_id, waiting_only, batch_size, max_tasks, max_seconds, progress, stop)
    finally:
        publisher.close()
    return summary


def _process(publisher: Publisher, summary: ProcessSummary, route_id: int | None, waiting_only: bool,
             batch_size: int, max_tasks: int | None, max_seconds: float | None,
             progress: Callable[[ProcessSummary], None] | None, stop: Callable[[], bool] | None = None) -> None:
    started = time.monotonic()
    # route -> when its platform lets us call again, after a 429 in this call
    rate_limited: dict[int, datetime] = {}
    while True:
        if max_tasks is not None and summary.claimed >= max_tasks:
            break
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            break
        limit = batch_size if max_tasks is None else min(batch_size, max_tasks - summary.claimed)
        ids = claim_tasks(route_id, limit, waiting_only=waiting_only)
        if not ids:
            break
        batch = list(Task.objects.filter(pk__in=ids).order_by("pk"))
        for position, task in enumerate(batch):
            if stop and stop():
                publisher.flush()
                summary.handed_back += hand_back([t.pk for t in batch[position:]])
                return
            until = rate_limited.get(task.route_id)
            if until is not None and until > timezone.now():
                # The platform just told us to wait: don't hammer it with the rest of the batch.
                outcome = _release(task, until)
            else:
                outcome = publisher.publish(task)
                if outcome.rate_limited:
                    rate_limited[task.route_id] = outcome.retry_at
                    summary.rate_limited_until = max(filter(None, [summary.rate_limited_until, outcome.retry_at]))
            summary.add(task.pk, task.route_id, outcome)
        publisher.flush()  # a claimed batch ends with its outcomes saved
        if progress:
            progress(summary)
        if route_id is not None and route_id in rate_limited:
            break  # the rest waits for the platform's reset (process_route comes back then)

def _release(task: Task, retry_at: datetime | None) -> PublishOutcome:
    """Give a claimed task back unpublished, due again at retry_at."""
    Task.objects.filter(pk=task.pk, status=Task.Status.PROCESSING).update(
        status=Task.Status.WAITING, next_attempt_at=retry_at, processing_started_at=None, updated_at=timezone.now())
    return PublishOutcome(Task.Status.WAITING, retry_at=retry_at)

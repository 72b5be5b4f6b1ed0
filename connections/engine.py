"""The engine: subscribe (incoming -> pages -> entities -> tasks) and publish (task -> outgoing request).

Plain functions on ids and model instances, no Celery in here: `connections.tasks` wraps them for
workers, the management commands call them in-process (`--sync`), and the tests call them directly.

State that must survive a crash lives in the database:
- a Run row says how far a subscription got (pages, entities, tasks) and carries a heartbeat;
- a Task row says where one entity is. Publishing claims tasks with one conditional UPDATE
  (status New/Waiting -> Processing), so two workers never publish the same task; a worker that
  dies leaves its tasks in Processing, and `repair()` returns them to New after
  settings.STUCK_TASK_TIMEOUT_MINUTES. Delivery is therefore *at least once*: a publication that
  reached the platform just before the crash is sent again.

Task dedupe keys (unique per route) make subscriptions idempotent, see `dedupe_key()`.

This module is the engine's one front door (other code and the tests import from here); the work
lives in cohesive modules:
- connections.steps: errors naming a step, task keys (dedupe_key), transformer chains;
- connections.subscription: running an incoming (execute_run, store_pushed_entities, cancel_run);
- connections.claiming: claiming tasks and the status changes outside a publication;
- connections.publisher: publishing one task, outcomes saved in batches (Publisher);
- connections.publication: the claim-and-publish loop (process_tasks);
and repair/prune (housekeeping) below.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .claiming import (  # noqa: F401
    CLAIM_BATCH,
    CLAIMABLE,
    _me,
    _relaxed_commit,
    claim_tasks,
    due_tasks,
    hand_back,
    next_due_at,
    retry_tasks,
    skip_tasks,
)
from .models import Task
from .publication import ProcessSummary, _process, _release, process_tasks  # noqa: F401
from .publisher import (  # noqa: F401
    MAX_RETRY_DELAY,
    RESPONSE_BODY_LIMIT,
    SAVE_EVERY,
    SAVE_WITHIN_SECONDS,
    Publisher,
    PublishOutcome,
    _save_sql,
)
from .steps import (  # noqa: F401
    Chain,
    RunCancelled,
    RunInterrupted,
    StepError,
    _canonical,
    _describe_error,
    _digest,
    _error_text,
    _redacted,
    compile_chain,
    dedupe_key,
    entity_id,
    worker_name,
)
from .subscription import (  # noqa: F401
    _check_between_pages,
    _finish_run,
    _idle_routes,
    _store_page,
    cancel_run,
    execute_run,
    parameter_sets,
    prefix_of,
    start_run,
    store_pushed_entities,
)

# --------------------------------------------------------------------------------------------
# Housekeeping: repair after crashes, retention
# --------------------------------------------------------------------------------------------


def repair(now: datetime | None = None) -> dict:
    """Hand back tasks stuck in Processing and resume runs whose worker stopped.

    Work held by a process of this host that no longer exists comes back at once
    (`claims.recover`). Otherwise a worker killed mid-publication leaves its claimed tasks in
    Processing until STUCK_TASK_TIMEOUT_MINUTES, then they return to New (so a publication may
    repeat: at least once); a run whose heartbeat is that old is queued again, up to
    MAX_RUN_RESUMES times, then marked Failed with the reason. `runs_resumed` lists the runs
    to hand to a worker.
    """
    from . import claims

    now = now or timezone.now()
    result = claims.recover(now)
    limit = now - timedelta(minutes=settings.STUCK_TASK_TIMEOUT_MINUTES)
    result["tasks_released"] += Task.objects.filter(status=Task.Status.PROCESSING).filter(
        Q(processing_started_at__lt=limit) | Q(processing_started_at__isnull=True, updated_at__lt=limit)
    ).update(status=Task.Status.NEW, processing_started_at=None, claimed_by=None,
             last_error="Returned to New: the worker publishing it stopped.", updated_at=now)
    resumed, failed = claims.resume_runs(list(claims.stale_runs(limit)), now)
    result["runs_resumed"] += resumed
    result["runs_failed"] += failed
    return result


def prune(now: datetime | None = None) -> dict[str, int]:
    """Delete finished tasks, runs and request logs past their retention period (in batches, see retention)."""
    from .retention import prune as prune_in_batches

    now = now or timezone.now()
    pruned = prune_in_batches(now)
    from storages.store import prune as prune_storages

    entries = sum(prune_storages(now).values())  # each storage's own time to live
    from audit.retention import prune as prune_audit_log

    audit = prune_audit_log(now)  # RETENTION_DAYS_AUDIT_LOG
    return {**pruned, "storage_entries": entries, "audit_entries": audit}

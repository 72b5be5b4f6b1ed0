"""Who is working on a task or a run, and taking work back from a process that died.

A publisher claims tasks and a worker runs a run under its "host:pid" (`me()`). When that
process dies (SIGKILL, out of memory, a pool process lost), its work would otherwise stay in
Processing / Running until STUCK_TASK_TIMEOUT_MINUTES have passed. A process on the same host
can tell at once that the pid is gone, so `recover()` (the repair job, and every worker when it
starts) hands such tasks back to New and queues such runs again right away. Claims of other
hosts, and of processes that are alive but silent, still fall back to the timeout.

A run is resumed by running it again from its first page: task keys (see engine.dedupe_key)
make the pages read before the crash produce no second task.
"""
from __future__ import annotations

import os
import socket

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from alumio_lite.processes import is_running

from .models import Run, Task


def me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def is_dead(claim: str | None) -> bool:
    """True when `claim` names a process on this host that no longer exists."""
    host, _, pid = (claim or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not is_running(int(pid))


def _dead_claims(queryset) -> list[str]:
    local = f"{socket.gethostname()}:"
    claims = queryset.filter(claimed_by__startswith=local).order_by().values_list("claimed_by", flat=True).distinct()
    return [claim for claim in claims if is_dead(claim)]


def recover(now=None) -> dict:
    """Hand back the tasks and queue again the runs of dead processes on this host."""
    now = now or timezone.now()
    processing = Task.objects.filter(status=Task.Status.PROCESSING)
    dead = _dead_claims(processing)
    tasks = processing.filter(claimed_by__in=dead).update(
        status=Task.Status.NEW, processing_started_at=None, claimed_by=None, updated_at=now,
        last_error="Returned to New: the process publishing it stopped.") if dead else 0
    running = Run.objects.filter(status=Run.Status.RUNNING)
    dead_runs = list(running.filter(claimed_by__in=_dead_claims(running)))
    resumed, failed = resume_runs(dead_runs, now)
    return {"tasks_released": tasks, "runs_resumed": resumed, "runs_failed": failed}


def resume_runs(runs, now=None) -> tuple[list[int], int]:
    """Queue the given dead runs again (up to MAX_RUN_RESUMES each); fail the ones out of resumes.

    Returns the ids to hand to a worker again, and how many runs were failed.
    """
    now = now or timezone.now()
    resumed, failed = [], 0
    for run in runs:
        seen = timezone.localtime(run.heartbeat_at or now)
        stopped = (f"The worker running it ({run.worker or 'unknown'}) stopped at page {run.pages + 1} "
                   f"(last heartbeat {seen:%Y-%m-%d %H:%M:%S})")
        still_ours = Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING, claimed_by=run.claimed_by)
        if run.resumes < settings.MAX_RUN_RESUMES:
            if still_ours.update(status=Run.Status.QUEUED, resumes=run.resumes + 1, claimed_by=None,
                                 error_step="", error=f"{stopped}; it was started again automatically "
                                                      f"(resume {run.resumes + 1} of {settings.MAX_RUN_RESUMES})."):
                resumed.append(run.pk)
        else:
            failed += still_ours.update(
                status=Run.Status.FAILED, finished_at=now, error_step=f"page {run.pages + 1}",
                error=(f"{stopped}, after {run.resumes} automatic resumes. Pages already read kept their tasks; "
                       f"run the incoming again to continue (records with an id get no duplicate task)."))
    return resumed, failed


def stale_runs(limit):
    """Running runs whose heartbeat is older than `limit` (a process that hangs, or on another host)."""
    return Run.objects.filter(status=Run.Status.RUNNING).filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, started_at__lt=limit))

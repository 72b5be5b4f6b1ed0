"""Celery tasks: thin wrappers that take ids and call the engine.

Every task is safe to run twice (acks_late redelivers after a crash): runs dedupe their tasks
by key, publishers claim tasks with a conditional UPDATE, housekeeping is idempotent.
"""
import logging
import socket

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import engine
from .lifecycle import stopping
from .models import Incoming, Route, Run, WorkerHeartbeat

log = logging.getLogger(__name__)

# A publisher message works for at most this long, then hands over to a fresh message, so one
# long route cannot starve the queue (and a worker restart loses at most one batch of claims).
PROCESS_SLICE_SECONDS = 60

# Time limits (seconds): the soft one raises inside the task, the hard one kills its process.
# Every platform call already ends within HTTP_TOTAL_TIMEOUT, so these catch what else could hang.
RUN_LIMITS = {"soft_time_limit": settings.RUN_TIME_LIMIT, "time_limit": settings.RUN_TIME_LIMIT + 300}
# A slice, plus the publication in hand when it ends (a call, and maybe a second for a branching
# outgoing transformer), plus room to save; hard only: a soft limit would fail the task in hand.
PUBLISH_LIMITS = {"time_limit": PROCESS_SLICE_SECONDS + 3 * settings.HTTP_TOTAL_TIMEOUT + 60}
SYSTEM_LIMITS = {"soft_time_limit": 240, "time_limit": 300}


@shared_task(name="connections.heartbeat", soft_time_limit=30, time_limit=60)
def heartbeat() -> str:
    """Record that a worker is alive; the dashboard shows workers seen in the last minutes."""
    hostname = socket.gethostname()
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": timezone.now()})
    return hostname


def start_processing(route_id: int, *, on_commit: bool = False) -> None:
    """Start publishing a route's due tasks with settings.PUBLISH_FANOUT messages at once.

    One message is one worker process publishing the route, however many processes are idle; with
    several, the processes share the route's backlog. They never publish a task twice: each claims
    its own tasks (engine.claim_tasks), and a message that finds nothing left ends at once.
    """
    send = process_route.delay_on_commit if on_commit else process_route.delay
    for _ in range(max(1, settings.PUBLISH_FANOUT)):
        send(route_id)


def enqueue_processing(route_ids: list[int]) -> None:
    """Start publishing the given routes' due tasks on the workers."""
    for route_id in route_ids:
        start_processing(route_id)


def hand_over(task, *args) -> str:
    """Send `task(*args)` again for the next worker, because this one is shutting down.

    With a short countdown: a worker that is shutting down still receives messages, and would
    run a plain one, but it holds a delayed one unstarted and gives it back to the broker as it
    stops.
    """
    task.apply_async(args, countdown=2)
    return "handed over: the worker is shutting down"


@shared_task(name="connections.execute_run", **RUN_LIMITS)
def execute_run(run_id: int) -> str:
    """Run a queued Run (an incoming configuration); realtime routes start publishing page by page."""
    if stopping():
        return hand_over(execute_run, run_id)
    run = engine.execute_run(run_id, notify=enqueue_processing, stop=stopping)
    if run.status == Run.Status.QUEUED:  # put back between pages by the shutdown
        return hand_over(execute_run, run.pk)
    return f"run {run.pk}: {run.status}"


def resume(run_ids: list[int]) -> None:
    """Hand runs queued again after their worker died to a worker."""
    for run_id in run_ids:
        execute_run.delay(run_id)


@shared_task(name="connections.run_incoming", **RUN_LIMITS)
def run_incoming(incoming_id: int, trigger: str = "schedule") -> str | None:
    """Start a new run of an incoming configuration (what a scheduler calls)."""
    incoming = Incoming.objects.filter(pk=incoming_id, disabled=False).first()
    if incoming is None:
        log.info("incoming %s is gone or disabled; nothing to run", incoming_id)
        return None
    run = engine.start_run(incoming, trigger=trigger)
    return execute_run(run.pk)


@shared_task(name="connections.run_route", **RUN_LIMITS)
def run_route(route_id: int, run_id: int) -> str:
    """A route's "Run now": run its incoming (run_id, already queued), then publish the route's tasks."""
    if stopping():
        return hand_over(run_route, route_id, run_id)
    run = engine.execute_run(run_id, notify=enqueue_processing, stop=stopping)
    if run.status == Run.Status.QUEUED:  # put back between pages by the shutdown
        return hand_over(run_route, route_id, run.pk)
    start_processing(route_id)
    return f"run {run.pk}: {run.status}"


@shared_task(name="connections.process_route", **PUBLISH_LIMITS)
def process_route(route_id: int | None = None, waiting_only: bool = False) -> str:
    """Publish a route's due tasks (all routes with None); come back later for Waiting ones."""
    if stopping():
        return hand_over(process_route, route_id, waiting_only)
    summary = engine.process_tasks(route_id, waiting_only=waiting_only, max_seconds=PROCESS_SLICE_SECONDS,
                                   stop=stopping)
    if summary.handed_back:
        hand_over(process_route, route_id, waiting_only)
    elif route_id is not None:
        if summary.rate_limited_until:
            # The platform asked us to wait: come back at its reset, not at once (no 429 loop).
            _come_back(route_id, waiting_only, summary.rate_limited_until)
        elif summary.claimed and engine.due_tasks(route_id, waiting_only=waiting_only).exists():
            process_route.delay(route_id, waiting_only)  # the slice ran out: continue in a fresh message
        else:
            due_at = engine.next_due_at(route_id)
            if due_at is not None:  # retries later: come back for the earliest (just the retries)
                _come_back(route_id, True, due_at)
    return str(summary)


def _come_back(route_id: int, waiting_only: bool, when) -> None:
    """Process the route again at `when` (the periodic job is the safety net if this message is lost)."""
    countdown = max((when - timezone.now()).total_seconds(), 0) + 0.05
    process_route.apply_async((route_id, waiting_only), countdown=countdown)


@shared_task(name="connections.process_due_tasks", **SYSTEM_LIMITS)
def process_due_tasks() -> str:
    """Periodic: publish what is due. Realtime routes: New and Waiting tasks (New ones are left over
    after a crash); scheduled routes: only Waiting retries, their New tasks wait for their scheduler."""
    realtime = set(Route.objects.filter(realtime=True, tasks__in=engine.due_tasks()).values_list("pk", flat=True))
    retries = set(Route.objects.filter(realtime=False, tasks__in=engine.due_tasks(waiting_only=True))
                  .values_list("pk", flat=True))
    for route_id in sorted(realtime):
        process_route.delay(route_id)
    for route_id in sorted(retries):
        process_route.delay(route_id, True)
    return f"{len(realtime) + len(retries)} routes with due tasks"


@shared_task(name="connections.repair", **SYSTEM_LIMITS)
def repair() -> dict:
    """Periodic: hand back tasks stuck in Processing, resume runs whose worker died."""
    result = engine.repair()
    resume(result["runs_resumed"])
    if result["tasks_released"]:
        process_due_tasks.delay()
    return result


@shared_task(name="connections.prune", soft_time_limit=3300, time_limit=3600)
def prune() -> dict:
    """Periodic (daily): delete finished tasks, runs and request logs past their retention."""
    return engine.prune()


def start_run(incoming: Incoming, trigger: str = "manual") -> Run:
    """Create a queued run and hand it to a worker once the surrounding transaction commits."""
    run = engine.start_run(incoming, trigger=trigger)
    execute_run.delay_on_commit(run.pk)
    return run


def start_route(route: Route, trigger: str = "manual") -> Run:
    """"Run now" on a route: a queued run of its incoming, then publication of the route's tasks."""
    run = engine.start_run(route.incoming, trigger=trigger)
    run_route.delay_on_commit(route.pk, run.pk)
    return run


@shared_task(name="connections.delete_route")
def delete_route(route_id: int) -> str:
    """Delete a big route's tasks in batches, then the route (see connections.deletion)."""
    from .deletion import delete_route as delete

    return f"route {route_id}: {delete(route_id)} tasks deleted"


@shared_task(name="connections.import_configurations")
def import_configurations(job_id: int) -> str:
    """Check and apply a big configurations import (see connections.import_jobs)."""
    from .import_jobs import execute

    job = execute(job_id)
    return f"import {job.pk}: {job.summary or job.error}"

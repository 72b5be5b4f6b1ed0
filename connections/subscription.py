"""Subscription: running an incoming configuration (incoming -> pages -> entities -> tasks).

A Run row says how far a subscription got (pages, entities, tasks) and carries a heartbeat; task
dedupe keys (unique per route, see steps.dedupe_key) make a run that is read again after a crash
create no second task.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Route, Run, Task
from .steps import (
    Chain,
    RunCancelled,
    RunInterrupted,
    StepError,
    _describe_error,
    _error_text,
    compile_chain,
    dedupe_key,
    worker_name,
)
from .transformers import context as step_context

log = logging.getLogger(__name__)


def start_run(incoming, trigger: str = "manual") -> Run:
    """A queued Run row; execute_run() does the work (in a worker or in-process)."""
    return Run.objects.create(incoming=incoming, trigger=trigger, status=Run.Status.QUEUED)


def parameter_sets(incoming) -> list[dict]:
    """The request parameters after the input transformers (they may branch into several sets)."""
    from variables.resolve import UnknownVariable

    from .run_test import parameter_sets as sets_of
    from .transformers import TransformError

    try:
        sets = sets_of(incoming)  # the configuration's own ${NAME}s resolved: sent as they are from here on
    except UnknownVariable as exc:
        raise StepError("request parameters", str(exc)) from exc
    except TransformError as exc:
        raise StepError("input transformers", f"Transformer error: {exc}") from exc
    for params in sets:
        if not isinstance(params, dict):
            raise StepError("input transformers", "the input transformers must produce objects with “path” "
                                                  "and “query”")
    return sets


def execute_run(run_id: int, notify: Callable[[list[int]], None] | None = None,
                progress: Callable[[Run], None] | None = None, stop: Callable[[], bool] | None = None) -> Run:
    """Run an incoming: stream its pages, transform every entity, create tasks for its routes.

    `notify(route_ids)` is called (after the page's transaction commits) with the realtime routes
    that got new tasks and have no publisher at work, so the caller can start publishing them at
    once, and again for every realtime route with tasks when the run ends; `progress(run)` after
    every stored page (the CLI prints it). When `stop()` turns true (the worker is shutting down)
    the run is put back in the queue between pages, to be resumed from its first page.
    """
    run = Run.objects.select_related("incoming", "incoming__client").get(pk=run_id)
    if run.status in (Run.Status.FINISHED, Run.Status.FAILED, Run.Status.CANCELLED):
        log.info("run %s is already %s; not running it again", run.pk, run.status)
        return run
    now = timezone.now()
    from .claims import me

    Run.objects.filter(pk=run.pk).update(
        status=Run.Status.RUNNING, worker=worker_name()[:200], heartbeat_at=now, claimed_by=me(),
        started_at=run.started_at or now, error="", error_step="",
    )
    run.refresh_from_db()
    incoming = run.incoming
    client = incoming.client
    # Counting starts again if this is a redelivered run (its worker died): pages read before
    # are read again, and their tasks' keys are the same, so no task is duplicated.
    counters = {"pages": 0, "entities": 0, "filtered": 0}
    step = "start"
    # Storage writes of transformers wait for their page's transaction; the watermark follows the run.
    from sync.watermarks import Tracker

    watermark = Tracker(incoming, run)
    scope = step_context.enter(step_context.StepContext(mode=step_context.BUFFERED, source=f"run {run.pk}", run=run))
    try:
        if incoming.disabled:
            raise StepError("start", f"Incoming configuration “{incoming}” is disabled.")
        if client is None:
            raise StepError("start", f"Incoming configuration “{incoming}” receives its entities from webhooks; "
                                     "there is nothing to fetch.")
        routes = list(
            Route.objects.filter(incoming=incoming, enabled=True).select_related("outgoing").order_by("pk")
        )
        realtime_ids = [r.pk for r in routes if r.realtime]
        route_chains = {
            r.pk: compile_chain(r.transformers_in_order(), f"route “{r}”") for r in routes
        }
        entity_chain = compile_chain(
            incoming.transformers_in_order("entity"), "entity transformers")
        step = "input transformers"
        sets = parameter_sets(incoming)

        from clients.http import ClientSession

        with ClientSession(client, run=run) as session:
            for set_number, params in enumerate(sets, start=1):
                prefix = f"parameter set {set_number}, " if len(sets) > 1 else ""
                pages = session.paginate(
                    incoming.entity, path=params.get("path") or {}, query=params.get("query") or {},
                    payload=params.get("payload"), page_cap=settings.PAGINATION_PAGE_CAP,
                    resolve_variables=False,  # parameter_sets() resolved the configuration's own
                )
                try:
                    number = 0
                    while True:
                        step = f"{prefix}page {number + 1}"
                        _check_between_pages(run, stop)
                        try:
                            page = next(pages)
                        except StopIteration:
                            break
                        number = page.number
                        step = f"{prefix}page {number}"
                        watermark.observe(page.records)
                        where = (set_number if len(sets) > 1 else 0, number, prefix)
                        # Routes whose queue is empty before this page: only they need a publisher
                        # started; elsewhere one is queued or at work and takes the new tasks in
                        # its next claim (one message per page would mostly find nothing to do).
                        idle = _idle_routes(realtime_ids) if notify and realtime_ids else []
                        realtime = _store_page(run, where, page.records, page.raw_count, routes, route_chains,
                                               entity_chain, counters)
                        start = [r for r in realtime if r in idle]
                        if start:
                            transaction.on_commit(lambda ids=start: notify(ids))
                        if progress:
                            run.refresh_from_db()
                            progress(run)
                        if not incoming.pagination:
                            break  # without "Enable pagination" only the first page is read
                finally:
                    pages.close()
    except RunCancelled:
        _finish_run(run, Run.Status.CANCELLED, counters, error="Cancelled by a user.", step=step)
    except RunInterrupted as exc:
        Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING, claimed_by=run.claimed_by).update(
            status=Run.Status.QUEUED, claimed_by=None, error=str(exc), error_step="")
    except StepError as exc:
        _finish_run(run, Run.Status.FAILED, counters, error=_error_text(client, exc), step=exc.step)
    except Exception as exc:  # every failure ends the run visibly, with the step it happened in
        log.warning("run %s failed at %s: %s", run.pk, step, _error_text(client, exc))
        where = getattr(exc, "step", "") or step
        if where and not where.startswith(prefix_of(step)):
            where = prefix_of(step) + where
        _finish_run(run, Run.Status.FAILED, counters, error=_describe_error(client, exc), step=where)
    else:
        _finish_run(run, Run.Status.FINISHED, counters)
        watermark.finished()  # only an error-free run moves the watermark
    step_context.leave(scope)
    if notify:
        # Whatever a publisher may have just missed: one more round per realtime route with tasks.
        with_tasks = sorted(Task.objects.filter(run=run, route__realtime=True).order_by()
                            .values_list("route_id", flat=True).distinct())
        if with_tasks:
            transaction.on_commit(lambda: notify(with_tasks))
    run.refresh_from_db()
    return run


def _check_between_pages(run: Run, stop: Callable[[], bool] | None) -> None:
    current = Run.objects.filter(pk=run.pk).values("cancel_requested", "claimed_by", "status").first() or {}
    if current.get("cancel_requested"):
        raise RunCancelled()
    if current.get("status") != Run.Status.RUNNING or current.get("claimed_by") != run.claimed_by:
        raise RunInterrupted("Taken over: the repair job believed its worker had stopped.")
    if stop and stop():
        raise RunInterrupted("Put back in the queue while its worker shut down; it starts again from its "
                             "first page (no task is created twice).")


def _idle_routes(route_ids: list[int]) -> list[int]:
    """The routes among route_ids with no task queued (New) or being published."""
    pending = Task.objects.filter(status__in=(Task.Status.NEW, Task.Status.PROCESSING))
    return [r for r in route_ids if not pending.filter(route_id=r).exists()]  # LIMIT 1 on the (route, status) index


def prefix_of(step: str) -> str:
    """The "parameter set N, " part of a step, if any."""
    head, sep, _ = step.partition(", ")
    return head + sep if head.startswith("parameter set") else ""

def _store_page(run: Run, where: tuple[int, int, str], records: list, raw_count: int, routes: list,
                route_chains: dict[int, Chain], entity_chain: Chain, counters: dict,
                also: Callable[[], None] | None = None) -> list[int]:
    """Turn one page into tasks for every route, in bounded batches; return realtime routes that got tasks.

    `also()` runs in the transaction that records the page as stored (a caller marking in the same
    commit that a pushed delivery is done).
    """
    from .storing import StoreError, task_batches

    realtime: set[int] = set()
    if "created" not in counters:  # once per run: the tasks a redelivered run wrote before
        counters["created"] = Task.objects.filter(run=run).count()
    try:
        for rows in task_batches(run, where, records, routes, route_chains, entity_chain, counters, dedupe_key):
            with transaction.atomic():  # one short write lock per batch, not per page
                # What the batch adds is one short range of the (run, id) index after the run's newest
                # task: recounting every task of the run after every page grew with the run.
                last = Task.objects.filter(run=run).order_by("-pk").values_list("pk", flat=True).first() or 0
                Task.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
                counters["created"] += Task.objects.filter(run=run, pk__gt=last).count()
                Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
            realtime.update(row.route_id for row in rows if row.route.realtime)
    except StoreError as exc:
        raise StepError(exc.step, str(exc)) from None
    counters["pages"] += 1
    counters["entities"] += raw_count  # raw, before filtering
    with transaction.atomic():
        step_context.current().commit()  # "Save to storage" / "Filter previously stored" of this page
        Run.objects.filter(pk=run.pk).update(
            pages=counters["pages"], entities=counters["entities"], filtered=counters["filtered"],
            tasks_created=counters["created"], heartbeat_at=timezone.now(),
        )
        if also is not None:
            also()
    return sorted(realtime)


def store_pushed_entities(run_id: int, records: list, also: Callable[[], None] | None = None) -> tuple[Run, list[int]]:
    """Entities pushed to us (a webhook request) rather than fetched: stored as page 1 of the run.

    They take the same path as a fetched page: the incoming's entity transformers, then every
    enabled route's transformers, then one task each, written in batches (_store_page). `also()`
    runs in the transaction that records the page as stored, so a caller can mark the delivery
    done in that commit. Stored again after a crash, the run makes the same task keys, so the
    batches already written are not duplicated. Returns the finished run and the realtime routes
    that got tasks.
    """
    run = Run.objects.select_related("incoming").get(pk=run_id)
    now = timezone.now()
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, worker=worker_name()[:200], heartbeat_at=now,
                                         started_at=run.started_at or now, error="", error_step="")
    counters = {"pages": 0, "entities": 0, "filtered": 0}
    realtime: list[int] = []
    scope = step_context.enter(step_context.StepContext(mode=step_context.BUFFERED, source=f"run {run.pk}"))
    try:
        routes = list(Route.objects.filter(incoming=run.incoming, enabled=True).select_related("outgoing")
                      .order_by("pk"))
        route_chains = {r.pk: compile_chain(r.transformers_in_order(), f"route “{r}”") for r in routes}
        entity_chain = compile_chain(run.incoming.transformers_in_order("entity"), "entity transformers")
        realtime = _store_page(run, (0, 1, ""), records, len(records), routes, route_chains, entity_chain,
                               counters, also=also)
    except StepError as exc:
        _finish_run(run, Run.Status.FAILED, counters, error=str(exc), step=exc.step)
    else:
        _finish_run(run, Run.Status.FINISHED, counters)
    finally:
        step_context.leave(scope)
    run.refresh_from_db()
    return run, realtime


def _finish_run(run: Run, status: str, counters: dict, error: str = "", step: str = "") -> None:
    # Only a run still Running is ours to end: if the repair job meanwhile marked it Failed (or
    # queued it again), that newer verdict stands.
    Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING, claimed_by=run.claimed_by).update(
        status=status, pages=counters["pages"], entities=counters["entities"], filtered=counters["filtered"],
        tasks_created=Task.objects.filter(run=run).count(), error=error, error_step=step[:100] if error else "",
        finished_at=timezone.now(), heartbeat_at=timezone.now(),
    )


def cancel_run(run: Run) -> bool:
    """Ask a queued or running run to stop; it checks the flag between pages."""
    if run.status == Run.Status.QUEUED:
        # Not started yet: nothing to interrupt, end it here.
        return bool(Run.objects.filter(pk=run.pk, status=Run.Status.QUEUED).update(
            status=Run.Status.CANCELLED, cancel_requested=True, error="Cancelled by a user.",
            finished_at=timezone.now()))
    return bool(Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(cancel_requested=True))

"""Stored webhook requests -> tasks, exactly once.

The claim protocol (no lock is held while transformers run):
1. claim(): one conditional UPDATE moves a request from Received (or from Processing whose claim
   is older than WEBHOOK_CLAIM_TIMEOUT_SECONDS: its worker died) to Processing with a fresh claim
   token. Two workers can never both win it.
2. The first claim makes one Run per Incoming configuration and records them on the request; a
   request processed again after a crash reuses them, so its task keys are the same.
3. Per incoming, the tasks are stored in one transaction that also adds the incoming to
   `done_incomings`, conditional on our claim token: if the claim was lost meanwhile, the whole
   transaction rolls back. An incoming is therefore stored once or not at all, whoever
   processes the request and however often.
4. The request is marked Processed (or Failed, with the reason) under the same token.
A worker SIGKILLed anywhere in between leaves the request in Processing; after the claim timeout
the next worker (or the periodic sweep) takes it and finishes only what is not done.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from connections import engine
from connections.models import Incoming, Run

from .models import WebhookRequest
from .parsers import ParseError, items_at, parse_body, parser_settings

log = logging.getLogger(__name__)

SWEEP_BATCH = 100  # requests claimed per sweep round


class ClaimLost(Exception):
    """Another worker took the request over (ours had expired); our work is rolled back."""


def claim_timeout() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_CLAIM_TIMEOUT_SECONDS)


def claimable(now=None) -> Q:
    now = now or timezone.now()
    return Q(status=WebhookRequest.Status.RECEIVED) | Q(
        status=WebhookRequest.Status.PROCESSING, claimed_at__lt=now - claim_timeout())


def claim(request_id: int) -> tuple[WebhookRequest, str] | None:
    """Take a request for processing; None when it is done or another worker holds it."""
    token = uuid.uuid4().hex
    now = timezone.now()
    won = WebhookRequest.objects.filter(claimable(now), pk=request_id).update(
        status=WebhookRequest.Status.PROCESSING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1)
    if not won:
        return None
    return WebhookRequest.objects.select_related("webhook").get(pk=request_id), token


def _ours(request: WebhookRequest, token: str):
    return WebhookRequest.objects.filter(pk=request.pk, claim_token=token, status=WebhookRequest.Status.PROCESSING)


@dataclass
class Outcome:
    entities: int = 0
    tasks: int = 0
    errors: list[str] = field(default_factory=list)
    realtime_routes: set[int] = field(default_factory=set)


def process(request_id: int) -> WebhookRequest | None:
    """Claim and process one stored request; None when there was nothing to claim."""
    claimed = claim(request_id)
    if claimed is None:
        return None
    request, token = claimed
    outcome = Outcome()
    try:
        _process(request, token, outcome)
    except ClaimLost:
        log.warning("webhook request %s was taken over by another worker; leaving it to that one", request.pk)
        return None
    except Exception as exc:  # a bug or a database error: the request shows it, and can be replayed
        log.exception("webhook request %s failed", request.pk)
        outcome.errors.append(f"{exc.__class__.__name__}: {exc}")
    status = WebhookRequest.Status.FAILED if outcome.errors else WebhookRequest.Status.PROCESSED
    error = "\n".join(outcome.errors)
    _ours(request, token).update(
        status=status, error=error[:5000], entities=outcome.entities, tasks_created=outcome.tasks,
        processed_at=timezone.now(), claim_token="")
    if outcome.realtime_routes:
        from connections.tasks import enqueue_processing

        routes = sorted(outcome.realtime_routes)
        transaction.on_commit(lambda: enqueue_processing(routes))
    request.refresh_from_db()
    return request


def _process(request: WebhookRequest, token: str, outcome: Outcome) -> None:
    incomings = list(request.webhook.incomings.filter(disabled=False).order_by("pk"))
    if not incomings:
        outcome.errors.append("The webhook hands its data to no enabled Incoming configuration.")
        return
    runs = _runs_for(request, token, incomings)
    body = bytes(request.body)
    for incoming in incomings:
        run_id = runs[str(incoming.pk)]
        if incoming.pk in request.done_incomings:
            run = Run.objects.get(pk=run_id)  # stored before a crash: count it, don't store it again
            outcome.entities += run.entities
            outcome.tasks += run.tasks_created
            continue
        prefix = f"{incoming.name}: " if len(incomings) > 1 else ""
        try:
            records = entities_of(incoming, body)
        except ParseError as exc:
            _fail_run(run_id, str(exc), "parsing the body")
            outcome.errors.append(f"{prefix}The body could not be read: {exc}")
            continue
        except engine.StepError as exc:
            _fail_run(run_id, str(exc), exc.step)
            outcome.errors.append(f"{prefix}{exc.step}: {exc}")
            continue
        done = [*request.done_incomings, incoming.pk]

        def mark_done(done=done) -> None:
            if not _ours(request, token).update(done_incomings=done):
                raise ClaimLost()

        run, realtime = engine.store_pushed_entities(run_id, records, also=mark_done)
        outcome.entities += run.entities
        outcome.tasks += run.tasks_created
        if run.status == Run.Status.FAILED:
            outcome.errors.append(f"{prefix}{run.error_step}: {run.error}")
        else:
            request.done_incomings = done
            outcome.realtime_routes.update(realtime)


def _runs_for(request: WebhookRequest, token: str, incomings: list[Incoming]) -> dict[str, int]:
    """The request's run per incoming, made (and recorded under our claim) the first time."""
    runs = dict(request.runs or {})
    missing = [i for i in incomings if str(i.pk) not in runs]
    if missing:
        with transaction.atomic():
            for incoming in missing:
                runs[str(incoming.pk)] = Run.objects.create(incoming=incoming, trigger="webhook").pk
            if not _ours(request, token).update(runs=runs):
                raise ClaimLost()
    return runs


def _fail_run(run_id: int, error: str, step: str) -> None:
    now = timezone.now()
    Run.objects.filter(pk=run_id).update(status=Run.Status.FAILED, error=error[:5000], error_step=step[:100],
                                         started_at=now, finished_at=now)


def entities_of(incoming: Incoming, body: bytes) -> list:
    """A body read as the incoming's Webhook subscriber says: parsed, input transformers, items at the path.

    The input transformers see the parsed body (each row of a list body), as a fetching
    subscriber's see its request, before the entities are taken from it at the path.
    """
    settings_ = parser_settings(incoming.parser)
    data = parse_body(body, settings_)
    transformers = incoming.transformers_in_order("input")
    bodies = [data]
    if transformers:
        chain = engine.compile_chain(transformers, "input transformers")
        rows = data if isinstance(data, list) else [data]
        bodies = [out for i, row in enumerate(rows)
                  for out in chain(row if isinstance(row, dict) else {"value": row},
                                   f"input transformers, row {i + 1}")]
        if isinstance(data, list):
            bodies = [bodies]  # the rows stay one list; the path reads into it as before
    records: list = []
    for item in bodies:
        records.extend(items_at(item, settings_["path"]))
    return records


def process_pending(limit: int | None = None) -> int:
    """Process every claimable request, oldest first (the periodic sweep and a starting worker's catch-up)."""
    handled = 0
    while limit is None or handled < limit:
        ids = list(WebhookRequest.objects.filter(claimable()).order_by("received_at", "pk")
                   .values_list("pk", flat=True)[:SWEEP_BATCH])
        if not ids:
            break
        progressed = 0
        for request_id in ids:
            if process(request_id) is not None:
                handled += 1
                progressed += 1
        if not progressed:
            break  # all taken by other workers meanwhile
    return handled


def replay(request: WebhookRequest) -> bool:
    """Process a stored request again (e.g. after fixing a transformer): new runs, the same body.

    A request being processed right now is left alone. Entities with an id whose task data did
    not change get no second task (the engine's task keys); changed ones do.
    """
    if request.status in (WebhookRequest.Status.REFUSED, WebhookRequest.Status.PROCESSING) or not request.body:
        return False
    return bool(WebhookRequest.objects.filter(pk=request.pk, status=request.status).update(
        status=WebhookRequest.Status.RECEIVED, runs={}, done_incomings=[], error="", claim_token="",
        claimed_at=None, processed_at=None, replays=F("replays") + 1))


def prune(now=None) -> int:
    """Delete finished requests older than RETENTION_DAYS_WEBHOOK_REQUESTS (never unprocessed ones)."""
    now = now or timezone.now()
    limit = now - timedelta(days=settings.RETENTION_DAYS_WEBHOOK_REQUESTS)
    finished = (WebhookRequest.Status.PROCESSED, WebhookRequest.Status.FAILED, WebhookRequest.Status.REFUSED)
    deleted, _ = WebhookRequest.objects.filter(status__in=finished, received_at__lt=limit).delete()
    return deleted

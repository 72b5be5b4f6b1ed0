""""Run test" on an incoming configuration: run it once, now, without creating tasks.

`start(incoming)` records a RunTest row and runs `execute(test_id)` in a background thread
(no broker needed); the page polls the row every ~500 ms. Each HTTP exchange is appended as
a redacted event while it happens, so the user sees the URLs as they are called. "Cancel"
sets `cancel_requested`, which the loop reads between pages. The first entities returned are
kept in `Incoming.last_test` for the transformer tester.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from clients.redaction import redact_text

from . import json_policy
from .models import Incoming, RunTest
from .samples import sample_of

logger = logging.getLogger(__name__)

SAMPLE_SIZE = 10  # entities kept to show (and for the transformer tester)
MAX_EVENTS = 200  # exchanges kept per test; later ones are counted, not stored
BODY_PREVIEW = 500  # characters of a response body shown per exchange
MAX_PARAMETER_SETS = 20  # input transformers may branch the request parameters

# Tests that run on one transaction switch this off and call the work inline.
BACKGROUND = True


class Cancelled(Exception):
    pass


@dataclass
class Draft:
    """The form as the user sees it, unsaved: Run test tests what is typed, not what was saved."""

    incoming: Incoming  # an unsaved copy carrying the form's values
    input_transformers: list


def start(incoming: Incoming, draft: Draft | None = None) -> RunTest:
    """Record a new test and run it (in a thread unless BACKGROUND is off).

    With a draft, the test uses the draft's entity, parameters, client, pagination and input
    transformers; the test row still belongs to the saved `incoming`.
    """
    test = RunTest.objects.create(incoming=incoming)
    if BACKGROUND:
        thread = threading.Thread(target=_execute_in_thread, args=(test.pk, draft), name=f"run-test-{test.pk}",
                                  daemon=True)
        thread.start()
    else:
        execute(test.pk, draft)
        test.refresh_from_db()
    return test


STALE_AFTER = 300  # seconds without progress before a "running" test counts as lost (e.g. a restart)


def mark_if_lost(test: RunTest) -> RunTest:
    """A test whose thread died with its process stays "running" forever; say so instead."""
    if not test.done and (timezone.now() - test.updated_at).total_seconds() > STALE_AFTER:
        _finish(test, RunTest.Status.FAILED, "the test stopped without finishing (was the server restarted?)", "test")
    return test


def cancel(test: RunTest) -> None:
    """Ask a running test to stop after the page it is on."""
    RunTest.objects.filter(pk=test.pk, status=RunTest.Status.RUNNING).update(cancel_requested=True)


def _execute_in_thread(test_id: int, draft: Draft | None = None) -> None:
    close_old_connections()
    try:
        execute(test_id, draft)
    finally:
        # A thread's connection is never closed by Django's request cycle; close it here.
        connection.close()


class _Recorder:
    """Collects the test's progress and writes it to its row (only the fields it owns)."""

    def __init__(self, test: RunTest, secrets: list[str]):
        self.test = test
        self.secrets = secrets

    def exchange(self, record: dict) -> None:
        test = self.test
        if len(test.events) >= MAX_EVENTS:
            test.dropped_events += 1
        else:
            body = record.get("response_body") or ""
            test.events.append(
                {
                    "method": record.get("method", ""),
                    "url": record.get("url", ""),
                    "status": record.get("status"),
                    "duration_ms": record.get("duration_ms", 0),
                    "step": record.get("step", ""),
                    "error": record.get("error", ""),
                    "ok": record.get("ok", True),
                    # Already redacted by the HTTP seam; cut, then redacted again in case the cut
                    # would have split a secret the seam matched whole.
                    "body": redact_text(body[:BODY_PREVIEW], self.secrets) + ("…" if len(body) > BODY_PREVIEW else ""),
                }
            )
        self.save("events", "dropped_events")

    def page(self, records: list, raw_count: int) -> None:
        test = self.test
        test.pages += 1
        test.entities += raw_count
        room = SAMPLE_SIZE - len(test.sample)
        if room > 0:
            test.sample.extend(sample_of(record, self.secrets) for record in records[:room])
        self.save("pages", "entities", "sample")
        for index, record in enumerate(records, start=1):
            bad = json_policy.problem(record)
            if bad:
                raise json_policy.Unstorable(
                    f"entity {index} holds {bad}. A run stops at this record unless a transformer replaces "
                    f"the value (e.g. a Value setter).")

    def save(self, *fields: str) -> None:
        self.test.save(update_fields=[*fields, "updated_at"])

    def cancelled(self) -> bool:
        return RunTest.objects.filter(pk=self.test.pk, cancel_requested=True).exists()


def parameter_sets(incoming: Incoming, transformers: list | None = None) -> list[dict]:
    """The request parameters after the input transformers (which may drop or branch them).

    The configuration's own ${NAME}s get today's values here, before the input transformers run
    (whose settings are resolved when their chain is built), so what the sets carry is final: a
    value a transformer read from a storage, or took from an HTTP request step's answer, is platform
    data and is sent as written. Raises UnknownVariable (a ValueError) for a name no longer defined.
    """
    from sync.watermarks import render
    from variables import resolve as variables

    params = variables.resolve(incoming.request_parameters or {})
    params = render(params, incoming)  # &{watermark:...} filled in, or left out
    if transformers is None:
        transformers = incoming.transformers_in_order("input")
    if not transformers:
        return [params]
    from .transformers import compile_transformers

    return compile_transformers(transformers)(params)


def execute(test_id: int, draft: Draft | None = None) -> None:
    """Run the test recorded as `test_id` to its end, writing every step to the row."""
    from clients.http import ClientSession, PlatformError
    from clients.platforms.base import UnknownEntity
    from clients.platforms.request import RequestBuildError

    test = RunTest.objects.select_related("incoming", "incoming__client").get(pk=test_id)
    incoming = draft.incoming if draft else test.incoming
    client = incoming.client
    secrets = client.secret_values()
    recorder = _Recorder(test, secrets)
    step = "input transformers"
    try:
        # A test never writes to storages: input transformers that save only say they would.
        from .transformers import context as step_context

        with step_context.running(step_context.StepContext(mode=step_context.DRY_RUN)):
            sets = parameter_sets(incoming, draft.input_transformers if draft else None)
        if len(sets) > MAX_PARAMETER_SETS:
            raise ValueError(
                f"the input transformers produced {len(sets)} request parameter sets; a test runs at most "
                f"{MAX_PARAMETER_SETS}"
            )
        step = "request"
        with ClientSession(client, on_exchange=recorder.exchange) as session:
            for index, params in enumerate(sets, start=1):
                prefix = f"parameter set {index}, " if len(sets) > 1 else ""
                if not isinstance(params, dict):
                    raise ValueError("the input transformers must produce objects with “path” and “query”")
                entity = session.entity(incoming.entity)
                if not entity.paginated:
                    # One request; a single record (an object) is one entity.
                    step = f"{prefix}page 1"
                    response = session.call(
                        entity,
                        path=params.get("path") or {},
                        query=params.get("query") or {},
                        payload=params.get("payload"),
                        step=step,
                        resolve_variables=False,  # parameter_sets() resolved the configuration's own
                    )
                    records = records_of(response.data)
                    recorder.page(records, len(records))
                    continue
                pages = session.paginate(
                    entity,
                    path=params.get("path") or {},
                    query=params.get("query") or {},
                    payload=params.get("payload"),
                    page_cap=settings.PAGINATION_PAGE_CAP,
                    resolve_variables=False,
                )
                number = 0
                try:
                    while True:
                        step = f"{prefix}page {number + 1}"
                        try:
                            page = next(pages)
                        except StopIteration:
                            break
                        number = page.number
                        recorder.page(page.records, page.raw_count)
                        if not incoming.pagination:
                            break  # without "Enable pagination" only the first page is read
                        if recorder.cancelled():
                            raise Cancelled
                finally:
                    pages.close()
        _finish(test, RunTest.Status.FINISHED)
    except Cancelled:
        _finish(test, RunTest.Status.CANCELLED)
    except PlatformError as exc:
        _finish(test, RunTest.Status.FAILED, exc.describe(), exc.step or step, secrets)
    except (RequestBuildError, UnknownEntity, ValueError) as exc:
        _finish(test, RunTest.Status.FAILED, str(exc), step, secrets)
    except Exception as exc:  # shown to the user, so it must say something and leak nothing
        logger.exception("Run test %s failed", test_id)
        _finish(test, RunTest.Status.FAILED, f"{type(exc).__name__}: {exc}", step, secrets)
    if test.sample:
        Incoming.objects.filter(pk=test.incoming_id).update(last_test=test.sample)


def records_of(data: Any) -> list:
    """The entities in the body of a request that is not paged.

    A list is its records; an object is one record, unless it is an envelope that carries the
    record(s) under "data" next to a success flag (Pipedrive: {"success": true, "data": {...}}).
    """
    if data is None:
        return []
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and "data" in data and ("success" in data or "additional_data" in data):
        inner = data["data"]
        return inner if isinstance(inner, list) else [] if inner is None else [inner]
    return [data]


def _finish(test: RunTest, status: str, error: str = "", step: str = "", secrets: Any = ()) -> None:
    if step and error.startswith(f"{step}: "):
        error = error[len(step) + 2 :]  # the step is shown next to it already
    test.status = status
    test.error = redact_text(error, list(secrets))
    test.error_step = step[:100] if error else ""
    test.finished_at = timezone.now()
    test.save(update_fields=["status", "error", "error_step", "finished_at", "updated_at"])

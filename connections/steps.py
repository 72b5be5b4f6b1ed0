"""What the engine's two halves share: the errors that name a step, task keys, transformer chains.

Plain functions, no database access (connections.engine re-exports them).
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings

from .records import source_id


class RunCancelled(Exception):
    """Raised between pages when the user asked to cancel the run."""


class RunInterrupted(Exception):
    """Raised between pages when the run must stop without an outcome: the worker is shutting
    down (the run goes back to Queued), or another worker took the run over."""


class StepError(Exception):
    """An error with the step it happened in ("page 2", "entity 3 of page 1"), for Run.error_step."""

    def __init__(self, step: str, message: str):
        super().__init__(message)
        self.step = step

def worker_name() -> str:
    """Who is running this, in one form: "name@host", as Celery names its workers.

    Inside a worker it is that worker's node name ("celery@vm"); elsewhere (manage.py run_incoming,
    a Run test in the dashboard) the program, so every run reads the same way ("manage.py@vm").
    """
    from celery import current_task

    request = getattr(current_task, "request", None)
    hostname = getattr(request, "hostname", None) if request else None
    if hostname:
        return hostname
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    return f"{program}@{socket.gethostname()} (pid {os.getpid()})"


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def _digest(data: Any) -> str:
    return hashlib.sha256(_canonical(data).encode()).hexdigest()[:24]


def entity_id(entity: Any) -> str | None:
    """The platform's id of a record as "key=value", if it carries one (see records.source_id)."""
    found = source_id(entity)
    return f"{found[0]}={found[1]}" if found else None


def dedupe_key(run_id: int, page: str, index: int, branch: str, source: Any, data: Any) -> str:
    """A task's key, unique per route, computed only from what the source returned.

    - A record with an id: "e:<hash of id and task data>". Run-independent: the same unchanged
      record fetched again (a later run, or the same run retried after a crash) makes no new
      task; a record whose data changed does make one, so updates are still published.
    - A record without an id: "r<run>:p<page>:i<index>:b<branch>", its position in this run.
      Scoped to the run because positions mean nothing across runs; a run retried after a
      crash re-reads the same pages in the same order and so produces the same keys.

    bulk_create(ignore_conflicts=True) on the (route, dedupe_key) constraint then drops the
    duplicates, so re-processing a page never creates a second task.
    """
    ident = entity_id(source)
    if ident is not None:
        return "e:" + _digest([ident, data])
    return f"r{run_id}:p{page}:i{index}:b{branch}"


Chain = Callable[[dict, str], list[dict]]


def compile_chain(transformers: list, where: str) -> Chain:
    """Compile saved transformers once; the result runs them on an entity, errors naming the step.

    `where` prefixes the step of a compile error; the per-entity step is passed on each call.
    """
    if not transformers:
        return lambda entity, step: [entity]
    from .transformers import TransformError, compile_transformers

    try:
        compiled = compile_transformers(transformers)
    except TransformError as exc:
        raise StepError(where, f"Transformer error: {exc}") from exc

    def run(entity: dict, step: str) -> list[dict]:
        try:
            return list(compiled(entity))
        except TransformError as exc:
            raise StepError(step, f"Transformer error: {exc}") from exc

    return run


def _redacted(client, text: str) -> str:
    from clients.redaction import redact_text

    return redact_text(text, client.secret_values()) if client is not None else text


def _error_text(client, exc: BaseException) -> str:
    return _redacted(client, str(exc) or exc.__class__.__name__)

def _describe_error(client, exc: BaseException) -> str:
    if exc.__class__.__name__ == "SoftTimeLimitExceeded":  # Celery's soft time limit of a run
        return (f"Stopped after {settings.RUN_TIME_LIMIT} s, the longest a run may take (RUN_TIME_LIMIT). "
                "Pages already read kept their tasks; narrow the request or raise RUN_TIME_LIMIT.")
    status = getattr(exc, "status", None)
    text = _error_text(client, exc)
    name = exc.__class__.__name__
    if status:
        return f"{name} (HTTP {status}): {text}"
    return f"{name}: {text}"

"""Turning one fetched page into task rows: bounded in memory, in lock time and in what a record may become.

A page used to become every task in memory and one INSERT transaction: a page of 1,000,000
records took a worker past 1 GB and held SQLite's write lock for half a minute, so beat and the
heartbeat failed with "database is locked". Now the rows are built and written in batches of
TASK_INSERT_BATCH, each in its own short transaction. A crash between batches is safe: the run
is read again and the dedupe keys skip the rows already written.

What one record or one page may become is capped (settings RECORD_TASK_CAP, RECORD_MAX_CHARS,
PAGE_TASK_CAP); beyond a cap, and for a value the JSON policy refuses, the run stops with an
error naming the record. Nothing is dropped without a word: a row the database would skip
under INSERT OR IGNORE for bad JSON never reaches it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings

from . import json_policy
from .models import Run, Task
from .records import describe

Chain = Callable[[dict, str], list[dict]]


class StoreError(Exception):
    """A record that can't become tasks; `step` names it for Run.error_step."""

    def __init__(self, step: str, message: str):
        super().__init__(message)
        self.step = step


def task_batches(run: Run, where: tuple[int, int, str], records: list, routes: list,
                 route_chains: dict[int, Chain], entity_chain: Chain, counters: dict,
                 dedupe_key: Callable[..., str]) -> Iterator[list[Task]]:
    """Yield the page's task rows, at most settings.TASK_INSERT_BATCH at a time.

    counters["filtered"] grows by the records the entity transformers dropped.
    """
    set_number, number, prefix = where
    page_key = f"{set_number}.{number}" if set_number else str(number)
    batch_size = settings.TASK_INSERT_BATCH
    record_cap, page_cap, max_chars = settings.RECORD_TASK_CAP, settings.PAGE_TASK_CAP, settings.RECORD_MAX_CHARS
    batch: list[Task] = []
    page_total = 0
    for index, record in enumerate(records):
        step = f"{prefix}page {number}, entity {index + 1}"
        source = record if isinstance(record, dict) else {"value": record}
        outputs = entity_chain(source, step)
        if not outputs:
            counters["filtered"] += 1
        _cap(len(outputs), record_cap, step, "RECORD_TASK_CAP", "entities")
        made = 0
        for route in routes:
            chain = route_chains[route.pk]
            for branch, out in enumerate(outputs):
                results = chain(out, f"{step}, route “{route}”")
                made += len(results)
                _cap(made, record_cap, step, "RECORD_TASK_CAP", "tasks")
                for sub, data in enumerate(results):
                    _check(data, step, max_chars)
                    key = dedupe_key(run.pk, page_key, index, f"{branch}.{sub}", source, data)
                    batch.append(Task(route=route, run=run, dedupe_key=key, data=data, **describe(source, data)))
        page_total += made
        _cap(page_total, page_cap, f"{prefix}page {number}", "PAGE_TASK_CAP", "tasks", what="this page")
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _cap(count: int, cap: int, step: str, setting: str, noun: str, what: str = "this record") -> None:
    if count > cap:
        raise StoreError(step, f"{what} became more than {cap:,} {noun} (the {setting} setting); a transformer "
                               f"that splits it into so many is most likely a mistake, else raise {setting}.")


def _check(data: Any, step: str, max_chars: int) -> None:
    try:
        size = json_policy.storable_size(data)
    except json_policy.Unstorable as exc:
        raise StoreError(step, f"this record can't be stored: {exc}. Replace the value with a transformer "
                               f"(e.g. a Value setter) or fix it at the platform.") from None
    if size > max_chars:
        raise StoreError(step, f"this record is {size:,} characters as JSON, more than the {max_chars:,} one "
                               f"task may hold (the RECORD_MAX_CHARS setting); remove what the outgoing "
                               f"side does not need with a transformer.")

"""Where a chain runs, for the few kinds that reach outside the entity (storages, HTTP requests).

Most kinds are pure. The storage kinds read and write storages, and the HTTP request kind calls a
platform; how they may do that depends on who runs the chain:

- ``direct`` (the default, e.g. a management command or a unit test): writes happen at once.
- ``buffered`` (the engine): writes wait in ``writes`` until ``commit()``, which the engine calls
  inside the transaction that stores the page's tasks (or a task's outcome). A run that dies
  mid-page therefore never leaves an entity marked "stored" without its task.
- ``dry_run`` (the transformer tester): writes are only described in ``notes``; nothing is saved.

Reads see the pending writes first, so two records with the same key in one page behave as if
the first had been saved already. HTTP requests made by a chain share ``http_cache`` for the life of
the context (one run), so identical GETs go over the wire once.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from .errors import TransformError

log = logging.getLogger(__name__)

DIRECT, BUFFERED, DRY_RUN = "direct", "buffered", "dry_run"


@dataclass
class StepContext:
    mode: str = DIRECT
    live: bool = True  # may HTTP request steps call platforms? (the tester asks first)
    source: str = ""  # who writes, for storages that log changes: "run 12", "task 40"
    writes: dict[tuple[int, str], Any] = field(default_factory=dict)  # (storage id, key) -> value
    notes: list[str] = field(default_factory=list)
    http_cache: dict[Any, Any] = field(default_factory=dict)
    http_calls: int = 0
    http_hits: int = 0
    sessions: dict[int, Any] = field(default_factory=dict)  # client id -> ClientSession
    owns_sessions: bool = True  # False when the sessions are lent by a longer-lived context
    run: Any = None  # request logs of HTTP request steps link to this run ...
    task: Any = None  # ... or task
    _storages: dict[str, Any] = field(default_factory=dict)
    _storages_by_id: dict[int, Any] = field(default_factory=dict)
    _clients: dict[str, Any] = field(default_factory=dict)

    # --- storages

    def storage(self, identifier: str):
        """The Storage with this identifier (cached for the context), or a TransformError saying what to do."""
        found = self._storages.get(identifier)
        if found is None:
            from storages.models import Storage

            found = Storage.objects.filter(identifier=identifier).first()
            if found is None:
                raise TransformError(f'there is no storage "{identifier}". Create it under Connections → Storages, '
                                     "or correct the storage identifier.")
            self._storages[identifier] = found
            self._storages_by_id[found.pk] = found
        return found

    def read(self, storage, key: str) -> Any:
        """The value at key, pending writes first; storages.store.MISSING when absent."""
        from storages import store

        pending = self.writes.get((storage.pk, key), store.MISSING)
        if pending is not store.MISSING:
            return pending
        return store.get(storage, key)

    def read_digest(self, storage, key: str) -> str | None:
        from storages import store

        if (storage.pk, key) in self.writes:
            return store.digest(self.writes[(storage.pk, key)])
        return store.get_digest(storage, key)

    def write(self, storage, key: str, value: Any) -> None:
        from storages import store

        key = store.check_key(key)
        if self.mode == DIRECT:
            store.save(storage, key, value, source=self.source)
            return
        self.writes[(storage.pk, key)] = value
        if self.mode == DRY_RUN:
            self.notes.append(f'Would save key "{key}" in storage "{storage.name}" (not saved: the tester '
                              "never writes to storages).")

    def commit(self) -> int:
        """Save the pending writes (buffered mode); call inside the caller's transaction."""
        if self.mode != BUFFERED or not self.writes:
            self.writes.clear()
            return 0
        from storages import store

        by_storage: dict[int, list[tuple[str, Any]]] = {}
        for (storage_id, key), value in self.writes.items():
            by_storage.setdefault(storage_id, []).append((key, value))
        written = sum(store.save_many(self._storages_by_id[sid], items, source=self.source)
                      for sid, items in by_storage.items())
        self.writes.clear()
        return written

    def discard(self) -> None:
        self.writes.clear()

    # --- HTTP

    def client(self, identifier: str):
        """The HTTP Client with this identifier (cached), or a TransformError saying what to do."""
        found = self._clients.get(identifier)
        if found is None:
            from clients.models import HttpClient

            found = HttpClient.objects.filter(identifier=identifier).first()
            if found is None:
                raise TransformError(f'there is no HTTP Client "{identifier}". Correct the client identifier, or '
                                     "create the client under Clients → HTTP Clients.")
            self._clients[identifier] = found
        return found

    def session(self, client):
        """One ClientSession per HTTP client for the context's life (closed by close())."""
        session = self.sessions.get(client.pk)
        if session is None:
            from clients.http import ClientSession

            session = self.sessions[client.pk] = ClientSession(client, run=self.run)
        session.task = self.task
        return session

    def close(self) -> None:
        if not self.owns_sessions:
            return
        for session in self.sessions.values():
            session.close()
        self.sessions.clear()


_current: ContextVar[StepContext | None] = ContextVar("transformer_step_context", default=None)


def is_active() -> bool:
    return _current.get() is not None


def current() -> StepContext:
    """The context chains run in now; outside any, a direct one (writes at once)."""
    ctx = _current.get()
    return ctx if ctx is not None else StepContext()


def enter(ctx: StepContext):
    """Make ctx current until leave(token); for code that cannot wrap its work in ``running``."""
    return _current.set(ctx)


def leave(token) -> None:
    ctx = _current.get()
    _current.reset(token)
    if ctx is not None:
        if ctx.http_calls or ctx.http_hits:
            log.info("%s: HTTP request steps sent %d requests; %d identical GETs answered from the run's cache",
                     ctx.source or "chain", ctx.http_calls, ctx.http_hits)
        ctx.close()


@contextmanager
def running(ctx: StepContext) -> Iterator[StepContext]:
    """Run the enclosed chains in ctx; closes its HTTP sessions at the end."""
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
        ctx.close()

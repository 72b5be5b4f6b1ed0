"""A total deadline for one HTTP exchange with a platform, trickling answers included.

requests' read timeout applies to each socket read, so a platform that sends one byte every
few seconds is never cut off by it. A `Deadline` bounds the whole exchange (connect, headers
and body): when it expires, a watchdog thread shuts the connection's socket down, the blocked
read fails at once, and the caller sees `deadline.expired`.

The socket is found through the connection classes of `DeadlineAdapter`: the connection that
sends a request while a deadline is active registers itself with it. Sessions in
`clients.http` mount that adapter, so every platform call has a deadline.

    with Deadline(120) as deadline:
        response = session.request(..., stream=True)
        body = response.content
    # an exception raised inside, with deadline.expired set, means "cut off"
"""
from __future__ import annotations

import os
import socket
import threading
import time

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class Deadline:
    """Cuts off the connection in use by this thread once `seconds` have passed."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._connection = None
        self._lock = threading.Lock()

    def __enter__(self) -> Deadline:
        self._previous = getattr(_current, "deadline", None)
        _current.deadline = self
        _watchdog().watch(self, time.monotonic() + self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        _current.deadline = self._previous
        _watchdog().forget(self)
        with self._lock:
            self._connection = None

    def attach(self, connection) -> None:
        with self._lock:
            self._connection = connection
            expired = self.expired
        if expired:
            _cut(connection)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            connection = self._connection
        if connection is not None:
            _cut(connection)


def active() -> Deadline | None:
    return getattr(_current, "deadline", None)


def _cut(connection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    try:
        # shutdown (not close) wakes a read blocked in another thread on every platform
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _Watchdog:
    """One thread per process that expires the live deadlines when their time comes."""

    def __init__(self):
        self.pid = os.getpid()
        self._live: dict[int, tuple[float, Deadline]] = {}  # a handful: one per thread calling out
        self._awaiting = float("inf")  # when the thread wakes up next
        self._wake = threading.Condition()
        threading.Thread(target=self._loop, name="http-deadlines", daemon=True).start()

    def watch(self, deadline: Deadline, when: float) -> None:
        with self._wake:
            self._live[id(deadline)] = (when, deadline)
            if when < self._awaiting:  # usually not: deadlines are long, so most calls cost no wake-up
                self._wake.notify()

    def forget(self, deadline: Deadline) -> None:
        with self._wake:
            self._live.pop(id(deadline), None)

    def _loop(self) -> None:
        while True:
            with self._wake:
                now = time.monotonic()
                due = [d for when, d in self._live.values() if when <= now]
                for deadline in due:
                    del self._live[id(deadline)]
                self._awaiting = min((when for when, _ in self._live.values()), default=float("inf"))
                if not due:
                    self._wake.wait(None if self._awaiting == float("inf") else self._awaiting - now)
                    continue
            for deadline in due:
                deadline.expire()


_watchdog_instance: _Watchdog | None = None
_watchdog_lock = threading.Lock()


def _watchdog() -> _Watchdog:
    """The process's watchdog; a forked child (a Celery pool process) starts its own."""
    global _watchdog_instance
    with _watchdog_lock:
        if _watchdog_instance is None or _watchdog_instance.pid != os.getpid():
            _watchdog_instance = _Watchdog()
        return _watchdog_instance


class _Registers:
    """Mixed into urllib3's connections: the one sending a request under a deadline registers."""

    def request(self, *args, **kwargs):
        deadline = active()
        if deadline is not None:
            deadline.attach(self)
        return super().request(*args, **kwargs)

    def connect(self) -> None:
        super().connect()
        deadline = active()
        if deadline is not None and deadline.expired:
            _cut(self)


class _HTTPConnection(_Registers, HTTPConnection):
    pass


class _HTTPSConnection(_Registers, HTTPSConnection):
    pass


class _HTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPConnectionPool, "https": _HTTPSConnectionPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with connections a `Deadline` can cut off (direct and via an HTTP proxy)."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if hasattr(manager, "pool_classes_by_scheme"):
            manager.pool_classes_by_scheme = _POOLS
        return manager

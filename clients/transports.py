"""Open connections kept per HTTP Client across a worker's publisher messages.

A publisher message (connections.tasks.process_route) used to start a new `requests.Session`, so
every message began with a new TCP (and TLS) connection to the platform, and a realtime route
that gets one message per page paid that once per page. A worker process now keeps one
`requests.Session` per HTTP Client (`acquire`), and gives it to the next ClientSession of that
client (`ClientSession(..., transport=...)`), which resets its headers, cookies and credential
headers: only the open connections carry over, everything the client's settings decide (base
URI, credentials, OAuth tokens, ${NAME} variables) is read again for every message.

- Changed client: a session is kept with a fingerprint of the client's platform, settings,
  secrets and `updated_at`; when it differs, the old session is closed and a new one made.
- Idle: a session unused for IDLE_SECONDS is closed instead of reused (a platform may drop idle
  connections; urllib3 also checks a pooled connection before reusing it).
- One user at a time: a session handed out and not yet released is never handed out again (a
  publisher nested in another, eager Celery in tests); the second caller gets a fresh one that is
  not kept.
- Fork: the cache belongs to the process that filled it; a forked child starts empty and never
  closes its parent's sockets.
- Outbound policy (clients/outbound.py): unchanged. Every request is checked up front, and a
  connection is only ever opened to an address checked at connect time.

Every such session is a `PlatformSession`: the requests.Session platform calls go through.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass

import requests

from . import outbound, redaction
from .environment import EnvironmentOnce

IDLE_SECONDS = 20.0


class PlatformSession(EnvironmentOnce, requests.Session):
    """A requests.Session that drops *every* credential header when a redirect leaves the host.

    requests itself only strips Authorization; Pipedrive's x-api-token and Copper's X-PW-*
    would otherwise follow a redirect to anywhere.
    """

    credential_headers: frozenset[str] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        # Connections a Deadline can cut off, to public addresses only unless allowed (clients/outbound.py).
        outbound.guard(self)

    def rebuild_auth(self, prepared_request, response):  # noqa: ANN001 - requests' signature
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in list(prepared_request.headers):
                if name.lower() in self.credential_headers or redaction.is_secret_name(name):
                    del prepared_request.headers[name]
        super().rebuild_auth(prepared_request, response)


@dataclass
class _Kept:
    session: requests.Session
    fingerprint: str
    released_at: float
    in_use: bool = False


_kept: dict[int, _Kept] = {}
_pid = os.getpid()


def fingerprint(client) -> str:
    """What decides a client's connections: platform, settings, secrets, last edit."""
    raw = json.dumps([client.platform, client.settings, client.secrets, str(getattr(client, "updated_at", ""))],
                     sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _owned() -> dict[int, _Kept]:
    global _pid
    if os.getpid() != _pid:  # a forked child: the sockets are the parent's, leave them alone
        _kept.clear()
        _pid = os.getpid()
    return _kept


def acquire(client) -> tuple[requests.Session, bool]:
    """A session for `client`: the kept one when still valid, else a new one. Returns (session, kept)."""
    kept = _owned()
    entry = kept.get(client.pk)
    now = time.monotonic()
    if entry is not None and entry.in_use:
        return PlatformSession(), False
    wanted = fingerprint(client)
    if entry is not None and (entry.fingerprint != wanted or now - entry.released_at > IDLE_SECONDS):
        entry.session.close()
        entry = None
    if entry is None:
        entry = kept[client.pk] = _Kept(PlatformSession(), wanted, now)
    entry.in_use = True
    return entry.session, True


def release(client_id: int, session: requests.Session) -> None:
    """The session's user is done with it: kept for the next one."""
    entry = _owned().get(client_id)
    if entry is not None and entry.session is session:
        entry.in_use = False
        entry.released_at = time.monotonic()
    else:
        session.close()


def reset(session: requests.Session) -> requests.Session:
    """A kept session as if new, but with its open connections: default headers, no cookies, no credentials."""
    session.headers = requests.utils.default_headers()
    session.cookies.clear()
    session.credential_headers = frozenset()
    return session


def close_all() -> None:
    """Close every kept session of this process (tests; a worker shutting down)."""
    for entry in _owned().values():
        entry.session.close()
    _kept.clear()

"""Outbound policy: which addresses the server may call on an HTTP Client's behalf.

A Base URI (or token URL) on loopback, link-local (169.254.0.0/16: cloud metadata), a private
range or carrying user:password would let whoever edits a client make the server read internal
pages into request logs. Those are refused unless ALLOW_PRIVATE_NETWORK is on (the default for a
local `bin/start`, off in the compose production profile).

Checked twice: when a URL is saved (literal addresses, user:password, "localhost"), and again on
every connection (clients.http and clients.oauth sessions mount GuardedAdapter), against what DNS
answers, on the very address the socket then connects to, so a name cannot be pointed at a
forbidden address after it was saved.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from .deadline import DeadlineAdapter
from .deadline import _HTTPConnection as DeadlineHTTPConnection
from .deadline import _HTTPSConnection as DeadlineHTTPSConnection

HOW_TO_ALLOW = "an Admin can allow private addresses with ALLOW_PRIVATE_NETWORK=1"


class OutboundRefused(requests.exceptions.InvalidURL):
    """A call the outbound policy forbids. An InvalidURL: never retried."""


def allowed() -> bool:
    return bool(getattr(settings, "ALLOW_PRIVATE_NETWORK", False))


def address_problem(address: str) -> str:
    """Why the server may not call `address` (an IP literal), or ""."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return f"{ip} is a loopback address (this server itself)"
    if ip.is_link_local:
        return f"{ip} is a link-local address (e.g. a cloud metadata service)"
    if ip.is_private or not ip.is_global or ip.is_multicast:
        return f"{ip} is a private or reserved address"
    return ""


def url_problem(url: str) -> str:
    """What the policy says about a URL typed into a form, without asking DNS; "" when fine or allowed."""
    if allowed():
        return ""
    parts = urlsplit(url)
    if parts.username or parts.password:
        return f"Remove the user:password part from the address; put credentials in their own fields ({HOW_TO_ALLOW})."
    host = (parts.hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is this server itself; calls there are turned off ({HOW_TO_ALLOW})."
    problem = address_problem(host)
    if problem:
        return f"{problem}; calls there are turned off ({HOW_TO_ALLOW})."
    return ""


def _checked_addresses(host: str, port: int) -> list[tuple]:
    """getaddrinfo for host, refusing if ANY answer is forbidden (an attacker's DNS may mix them)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for *_, sockaddr in infos:
        problem = address_problem(sockaddr[0])
        if problem:
            raise OutboundRefused(f"{host} resolves to {problem}; calls there are turned off ({HOW_TO_ALLOW})")
    return infos


class _GuardedConnectionMixin:
    """Connects only to an address it checked itself: DNS cannot answer differently in between."""

    def _new_conn(self):
        if allowed():
            return super()._new_conn()
        try:
            infos = _checked_addresses(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        except OutboundRefused as exc:
            raise NewConnectionError(self, str(exc)) from exc
        last_error: OSError | None = None
        for *_, sockaddr in infos:
            try:
                return urllib3_connection.create_connection(
                    (sockaddr[0], self.port), self.timeout,
                    source_address=self.source_address, socket_options=self.socket_options)
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
            except OSError as exc:
                last_error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")


class _GuardedHTTPConnection(_GuardedConnectionMixin, DeadlineHTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, DeadlineHTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(DeadlineAdapter):
    """The policy on top of clients.deadline's adapter: a clear refusal up front, guarded sockets underneath.

    Through an HTTP proxy the socket goes to the proxy, so there only the up-front check applies.
    """

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def send(self, request, *args, **kwargs):
        if not allowed():
            parts = urlsplit(request.url)
            if parts.username or parts.password:
                raise OutboundRefused(f"an address with user:password is refused ({HOW_TO_ALLOW})", request=request)
            try:
                _checked_addresses(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
            except OutboundRefused as exc:
                raise OutboundRefused(str(exc), request=request) from None
            except OSError:
                pass  # unresolvable: the connection attempt reports it in its own words
        return super().send(request, *args, **kwargs)


def refusal_in(exc: BaseException) -> OutboundRefused | None:
    """The OutboundRefused behind `exc`, however requests and urllib3 wrapped it (a connection-time refusal)."""
    todo, seen = [exc], set()
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OutboundRefused):
            return current
        todo += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        todo += [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)]
    return None


def guard(session: requests.Session) -> requests.Session:
    """Mount the policy on every http(s) URL of `session`."""
    adapter = GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session

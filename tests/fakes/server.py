"""A small, real HTTP server on 127.0.0.1 that plays one platform's API in tests.

`FakePlatform` is the shared part: a stdlib ThreadingHTTPServer in a daemon thread on a free
port, HTTP/1.1 keep-alive (so connection reuse is real), a record of every request received,
planned failures, and the generic "destination" behaviour for writes. Each platform subclass
(tests/fakes/platforms.py) adds exactly one thing: how that platform checks credentials and
pages through a list.

    with FakePicqer(records=250) as fake:
        fake.base_uri             # http://127.0.0.1:<port>/api/v1
        fake.received             # [Received(method, path, query, headers, body), ...]
        fake.fail_next(429, retry_after=1)   # the next request gets a 429 with Retry-After: 1
        fake.fail_next(500, times=2)         # the next two get a 500
        fake.garbage_next()                  # the next one gets 200 with a non-JSON body
        fake.published            # writes received by the destination behaviour

Records are generated on demand from their index (`record(i)`), so a fake serving 100,000
records holds none of them in memory.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Received:
    """One request as the fake saw it."""

    method: str
    path: str  # without the query string
    query: dict[str, str]  # last value wins
    headers: dict[str, str]
    body: Any  # parsed JSON, else the raw text ("" when empty)
    raw_body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header by case-insensitive name."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), default)


@dataclass
class Reply:
    """What the fake sends back: status, headers and a body (dict/list are JSON-encoded)."""

    status: int = 200
    body: Any = None  # dict/list (JSON), str/bytes (as is), or a callable yielding byte chunks (streamed)
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, separators=(",", ":")).encode()


def default_record(i: int) -> dict:
    return {"id": i, "name": f"Record {i}", "email": f"user{i}@example.com", "active": i % 3 != 0}


class FakePlatform:
    """Base of the platform fakes. Subclasses set `prefix` and implement `authorized` and `list_page`."""

    platform = ""  # the registry slug
    prefix = ""  # path of the Base URI, e.g. "/api/v1"

    def __init__(
        self,
        records: int = 0,
        *,
        record: Callable[[int], dict] | None = None,
        keep_requests: bool = True,
        delay: float = 0.0,
    ):
        self.total = records
        self._record = record or default_record
        self.keep_requests = keep_requests
        self.delay = delay  # seconds before each answer (timeouts)
        self.received: list[Received] = []
        self.published: list[Received] = []
        self.request_count = 0
        self.connections = 0  # TCP connections accepted (keep-alive reuse shows as fewer than requests)
        self._failures: list[Reply] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> FakePlatform:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval makes stop() (shutdown) return quickly between tests.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"fake-{self.platform}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start the fake first (use it as a context manager)"
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_uri(self) -> str:
        return self.origin + self.prefix

    # -- planning answers

    def fail_next(
        self,
        status: int,
        *,
        retry_after: float | str | None = None,
        times: int = 1,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `times` requests get this answer instead of the normal one."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = str(retry_after)
        if body is None:
            body = {"error": True, "status": status, "message": f"planned failure {status}"}
        with self._lock:
            self._failures.extend(Reply(status, body, extra) for _ in range(times))

    def endless_next(self, chunk: bytes = b"[" + b"1," * 32768) -> None:
        """The next request gets a 200 whose body never ends (no Content-Length): a client must cut it off."""

        def forever():
            yield chunk
            while True:
                yield b"1," * 32768

        self.fail_next(200, body=forever)

    def garbage_next(self, times: int = 1) -> None:
        """The next `times` requests get HTTP 200 with a body that is not JSON."""
        self.fail_next(200, body=b"<html><body>Service temporarily unavailable</body></html>", times=times,
                       headers={"Content-Type": "text/html"})

    # -- records

    def record(self, i: int) -> dict:
        """Record number `i` (1-based), generated on demand."""
        return self._record(i)

    def records(self, start: int, count: int) -> list[dict]:
        """`count` records from offset `start` (0-based), clipped to the total."""
        end = min(self.total, start + max(0, count))
        return [self._record(i + 1) for i in range(max(0, start), end)]

    # -- what subclasses define

    def authorized(self, request: Received) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def list_page(self, request: Received) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    def single(self, request: Received, record_id: int) -> Reply:
        if 1 <= record_id <= self.total:
            return Reply(200, self.record(record_id))
        return Reply(404, {"error": True, "message": "Not found"})

    def unauthorized(self, request: Received) -> Reply:
        return Reply(401, {"error": True, "message": "Unauthorized"})

    def intercept(self, request: Received) -> Reply | None:
        """A platform's own answer before the generic dispatch (media-type checks, downloads)."""
        return None

    def is_list_read(self, request: Received) -> bool:
        """Requests answered with records (GET by default); everything else is a write."""
        return request.method == "GET"

    def destination(self, request: Received) -> Reply:
        """Generic write target: record it, answer 201 with the JSON echoed."""
        with self._lock:
            self.published.append(request)
            number = len(self.published)
        echo = request.body if isinstance(request.body, dict) else {"body": request.body}
        # A multipart file's bytes are echoed as their size.
        echo = json.loads(json.dumps(echo, default=lambda raw: f"({len(raw)} bytes)"))
        return Reply(201, {"id": number, **echo})

    # -- dispatch

    def answer(self, request: Received) -> Reply:
        with self._lock:
            self.request_count += 1
            if self.keep_requests:
                self.received.append(request)
            planned = self._failures.pop(0) if self._failures else None
        if self.delay:
            time.sleep(self.delay)
        if planned is not None:
            return planned
        if not self.authorized(request):
            return self.unauthorized(request)
        if not request.path.startswith(self.prefix):
            return Reply(404, {"error": True, "message": f"no such path {request.path}"})
        special = self.intercept(request)
        if special is not None:
            return special
        if self.is_list_read(request):
            last = request.path.rstrip("/").rsplit("/", 1)[-1]
            if request.method == "GET" and last.isdigit():
                return self.single(request, int(last))
            return self.list_page(request)
        if request.method in WRITE_METHODS:
            return self.destination(request)
        return Reply(405, {"error": True, "message": "method not allowed"})


class _Handler(BaseHTTPRequestHandler):
    owner: FakePlatform
    protocol_version = "HTTP/1.1"  # keep-alive, so clients can reuse connections
    # Headers and body leave in one write with Nagle off; otherwise every keep-alive answer
    # waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    wbufsize = 1 << 16
    # Headers and body go out in separate writes; with Nagle on, each answer on a kept-alive
    # connection would stall ~40 ms on the client's delayed ACK, which real platforms don't do.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        with self.owner._lock:
            self.owner.connections += 1

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet tests

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else ""
        except ValueError:
            body = raw.decode("utf-8", "replace")
        request = Received(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=dict(self.headers.items()),
            body=body,
            raw_body=raw,
        )
        try:
            reply = self.owner.answer(request)
        except Exception as exc:  # a bug in the fake must show up as a 500, not a hang
            reply = Reply(500, {"error": True, "message": f"fake crashed: {exc!r}"})
        if callable(reply.body):  # a streamed body of unknown length: no Content-Length, close after
            self.send_response(reply.status)
            for key, value in {"Content-Type": "application/json", **reply.headers}.items():
                self.send_header(key, value)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for chunk in reply.body():
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading, as it should
            return
        payload = reply.encode()
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json"} if reply.body is not None else {}
        headers.update(reply.headers)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client refused the body (e.g. too large)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

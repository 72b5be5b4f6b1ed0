"""A token endpoint under the test's control, on 127.0.0.1 over real sockets.

    with TokenEndpoint() as endpoint:               # answers each POST with a fresh token
        endpoint.gate.clear()                       # hold the next answers until .gate.set()
        endpoint.received.wait(60)                  # a request has arrived (and is held)
    TokenEndpoint(reply=(500, "text/html", b"<html>down</html>"))   # a fixed answer
    TokenEndpoint(trickle=True)                     # one byte per half second, for minutes
    TokenEndpoint(forward_to=provider.token_url, drop_answer=True)  # pass on, then hang up

`requests` holds what arrived: (headers, form fields) per POST.
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import requests


class TokenEndpoint:
    def __init__(self, *, reply: tuple[int, str, bytes] | None = None, trickle: bool = False,
                 forward_to: str = "", drop_answer: bool = False):
        self.reply, self.trickle, self.forward_to, self.drop_answer = reply, trickle, forward_to, drop_answer
        self.gate = threading.Event()
        self.gate.set()
        self.received = threading.Event()
        self.requests: list[tuple[dict, dict]] = []
        self.issued = itertools.count(1)
        self._stop = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.requests.append((dict(self.headers), dict(parse_qsl(body.decode()))))
                owner.received.set()
                owner.gate.wait(120)
                owner.answer(self, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oauth/token/"

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        if self.forward_to:
            upstream = requests.post(self.forward_to, data=body, timeout=30, headers={
                k: v for k, v in handler.headers.items() if k.lower() in ("authorization", "content-type")})
            if self.drop_answer:  # the provider has acted on it; its answer never arrives
                handler.close_connection = True
                handler.connection.close()
                return
            status, kind, payload = upstream.status_code, upstream.headers.get("Content-Type", ""), upstream.content
        elif self.reply:
            status, kind, payload = self.reply
        else:
            n = next(self.issued)
            status, kind = 200, "application/json"
            payload = json.dumps({"access_token": f"issued-access-{n:04d}-abcdef", "token_type": "Bearer",
                                  "refresh_token": f"issued-refresh-{n:04d}-abcdef", "expires_in": 3600}).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(payload) if not self.trickle else 10_000))
        handler.end_headers()
        if self.trickle:  # a few bytes at a time, for far longer than any read timeout
            for _ in range(600):
                if self._stop.is_set():
                    break
                try:
                    handler.wfile.write(b" ")
                    handler.wfile.flush()
                except OSError:
                    break
                time.sleep(0.5)
            handler.close_connection = True
            return
        handler.wfile.write(payload)

    def __enter__(self) -> TokenEndpoint:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()

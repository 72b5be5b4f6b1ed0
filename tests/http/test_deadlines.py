"""Nothing hangs: a platform that trickles its answer is cut off at HTTP_TOTAL_TIMEOUT (real sockets)."""
from __future__ import annotations

import socket
import threading
import time

import pytest
from django.db import connection

from clients.http import ConnectionFailed
from clients.models import RequestLog

from .helpers import make_client, session

# The call runs in a thread of its own (so a hang fails the test instead of stalling it): it needs
# committed rows and its own connection.
pytestmark = pytest.mark.django_db(transaction=True)


class TrickleServer:
    """A raw socket server that answers every request one byte at a time, for minutes.

    `phase="body"`: complete headers, then a body one byte every `every` seconds;
    `phase="headers"`: the status line, then the headers themselves one byte at a time.
    """

    def __init__(self, phase: str, every: float = 0.2):
        self.phase, self.every = phase, every
        self.requests = 0
        self.stopped = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}/api/v1"

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.requests += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            if self.phase == "body":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[")
                trickle = b"1," * 50000
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                trickle = b"X-Slow: " + b"a" * 60000
            for i in range(len(trickle)):
                if self.stopped.is_set():
                    break
                conn.sendall(trickle[i:i + 1])
                time.sleep(self.every)
        except OSError:
            pass  # the client cut us off, as it should
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopped.set()
        self.server.close()
        self.thread.join(5)


def call_in_thread(fn):
    """Run fn() in a thread; return (finished within a generous budget, its exception)."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn()
        except Exception as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(90)
    return not thread.is_alive(), outcome.get("error")


@pytest.mark.parametrize("phase", ["body", "headers"])
def test_a_trickling_answer_is_cut_off_at_the_total_deadline_and_not_retried(settings, phase):
    settings.HTTP_TOTAL_TIMEOUT = 2
    settings.HTTP_READ_TIMEOUT = 5  # each byte comes well within the read timeout
    server = TrickleServer(phase)
    try:
        client = make_client("picqer", base_uri=server.url)
        s, _sleeps = session(client)
        finished, error = call_in_thread(lambda: s.call("GET /customers"))
    finally:
        server.stop()
    assert finished, "the call was still reading a trickling answer after 90 s"
    assert isinstance(error, ConnectionFailed), error
    assert "no complete answer within 2 s (HTTP_TOTAL_TIMEOUT)" in str(error)
    assert server.requests == 1  # a platform that trickles would only trickle again
    assert "HTTP_TOTAL_TIMEOUT" in RequestLog.objects.get(client=client).error


def test_a_normal_answer_is_not_affected_by_the_deadline_of_an_earlier_call(settings, fake_picqer):
    settings.HTTP_TOTAL_TIMEOUT = 1
    fake_picqer.total = 3
    s, _sleeps = session(fake_picqer.make_client())
    for _ in range(3):  # the same kept-alive connection, each call under its own deadline
        assert len(s.call("GET /customers").data) == 3
        time.sleep(0.6)
    assert fake_picqer.connections == 1

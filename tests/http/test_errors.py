"""The reasons users read when a platform or token endpoint gives no answer, from real sockets."""

from __future__ import annotations

import socket
import threading

import pytest
import requests

from clients.errors import BAD_URL_ERRORS, describe_request_error

TIMEOUT = (2.0, 0.3)


def _reason(url: str) -> str:
    with pytest.raises(requests.RequestException) as caught:
        requests.get(url, timeout=TIMEOUT)
    return describe_request_error(caught.value, TIMEOUT)


def test_a_server_that_accepts_but_never_answers_is_a_read_timeout_naming_the_setting():
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    thread.start()
    try:
        reason = _reason(f"http://127.0.0.1:{server.getsockname()[1]}/api")
    finally:
        thread.join(5)
        for conn in accepted:
            conn.close()
        server.close()
    assert reason == "no answer within 0.3 s (HTTP_READ_TIMEOUT)"


def test_a_closed_port_is_connection_refused():
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there any more
    assert _reason(f"http://127.0.0.1:{port}/") == "connection refused or reset"


@pytest.mark.parametrize("url", ["api.picqer.com/api/v1", "ftp://api.picqer.com/", "http://"])
def test_a_malformed_url_says_so_and_is_never_retried(url):
    with pytest.raises(requests.RequestException) as caught:
        requests.get(url, timeout=TIMEOUT)
    assert isinstance(caught.value, BAD_URL_ERRORS)
    assert describe_request_error(caught.value, TIMEOUT).startswith("the URL is not valid")

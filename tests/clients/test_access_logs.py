"""The OAuth callback's code and state never reach a web server's access log (runserver, gunicorn)."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.support.worker import BASE_DIR, worker_database_url

pytestmark = pytest.mark.django_db(transaction=True)

CODE, STATE = "one-time-code-Zx81Qw", "state-value-Kp27Lm"
CALLBACK = f"/clients/oauth/callback/?code={CODE}&state={STATE}&error_description=fine"


def _env(settings) -> dict:
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "SECRET_KEY": settings.SECRET_KEY,
           "DJANGO_SETTINGS_MODULE": "alumio_lite.settings", "PYTHONUNBUFFERED": "1"}
    if settings.ENCRYPTION_KEYS:
        env["ENCRYPTION_KEYS"] = ",".join(settings.ENCRYPTION_KEYS)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_when_up(url: str, proc: subprocess.Popen) -> requests.Response:
    deadline = time.monotonic() + 120
    while True:
        try:
            return requests.get(url, allow_redirects=False, timeout=10)
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def _assert_redacted(log: str) -> None:
    assert "/clients/oauth/callback/" in log, log[-2000:]
    assert CODE not in log and STATE not in log, log[-2000:]
    assert "code=[redacted]" in log and "state=[redacted]" in log and "error_description=fine" in log


def test_runserver_access_log_hides_code_and_state(settings):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
                             "--skip-checks"], cwd=BASE_DIR, env=_env(settings), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        answer = _get_when_up(f"http://127.0.0.1:{port}{CALLBACK}", proc)
        assert answer.status_code == 302  # unknown state: back to the list, nothing stored
        time.sleep(0.5)  # let the line be written before the server stops (the assertion is on content)
    finally:
        log = _stop(proc)
    _assert_redacted(log)


def test_gunicorn_access_log_hides_code_and_state(settings):
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "alumio_lite.wsgi:application", "--bind",
                             "127.0.0.1:0", "--workers", "1", "--access-logfile", "-"],
                            cwd=BASE_DIR, env=_env(settings), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        port = None
        lines = []
        deadline = time.monotonic() + 120
        while port is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
            port = int(found.group(1)) if found else None
            assert line or proc.poll() is None, "".join(lines)
        assert port, "".join(lines)
        answer = _get_when_up(f"http://127.0.0.1:{port}{CALLBACK}", proc)
        assert answer.status_code == 302
        time.sleep(0.5)
    finally:
        log = "".join(lines) + _stop(proc)
    _assert_redacted(log)

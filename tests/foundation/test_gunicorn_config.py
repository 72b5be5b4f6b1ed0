"""gunicorn.conf.py: the workers it starts hand the GIL over every WEB_SWITCH_INTERVAL_MS (1 ms by default).

A real gunicorn, started the way the image starts it (the config read from the project root),
serves `switch_interval_app` below, which answers with what its worker process has set.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
import requests

from tests.support.worker import BASE_DIR


def switch_interval_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [repr(sys.getswitchinterval()).encode()]


@pytest.mark.parametrize(("configured", "expected"), [(None, 0.001), ("5", 0.005)])
def test_workers_use_the_configured_switch_interval(configured, expected):
    env = {k: v for k, v in os.environ.items() if k != "WEB_SWITCH_INTERVAL_MS"}
    if configured is not None:
        env["WEB_SWITCH_INTERVAL_MS"] = configured
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "tests.foundation.test_gunicorn_config:"
                             "switch_interval_app", "--bind", "127.0.0.1:0", "--workers", "1", "--threads", "2",
                             "--log-level", "info"], cwd=BASE_DIR, env={**env, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        port, deadline = None, time.monotonic() + 120
        while port is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            assert line or proc.poll() is None, "".join(lines)
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
            port = int(found.group(1)) if found else None
        assert port, "".join(lines)
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
                time.sleep(0.2)
        assert answer.status_code == 200
        assert float(answer.text) == expected
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()

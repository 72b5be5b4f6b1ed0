"""`manage.py start` (what bin/start runs) brings up a dashboard you can sign in to, with a live
worker and the scheduler, on the embedded defaults; Ctrl-C stops all of it."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.slow
def test_start_runs_dashboard_worker_and_beat_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG")}
    env.update(ALUMIO_VAR_DIR=str(tmp_path / "var"), ALUMIO_ADMIN_USER="owner",
               ALUMIO_ADMIN_PASSWORD="a long local password", PYTHONUNBUFFERED="1")
    log = open(tmp_path / "start.log", "wb")
    proc = subprocess.Popen([sys.executable, "manage.py", "start", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    output = lambda: (tmp_path / "start.log").read_text(errors="replace")  # noqa: E731
    try:
        wait_until(lambda: requests.get(f"{base}/accounts/login/", timeout=2).status_code == 200, 90, "the dashboard")
        assert "Created the first admin account" in output() and "User name: owner" in output()
        assert "a long local password" not in output()  # a password from the environment is never echoed

        session = requests.Session()
        login = session.get(f"{base}/accounts/login/", timeout=5)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        signed_in = session.post(f"{base}/accounts/login/", timeout=10, headers={"Referer": f"{base}/accounts/login/"},
                                 data={"username": "owner", "password": "a long local password",
                                       "csrfmiddlewaretoken": token, "next": "/"})
        assert signed_in.status_code == 200 and "Sign out" in signed_in.text, signed_in.text[:500]
        # The worker answers the heartbeat sent at start-up: the dashboard shows it online.
        wait_until(lambda: "online" in session.get(f"{base}/", timeout=5).text, 60, "the worker's heartbeat")
        wait_until(lambda: "beat: Starting" in output(), 30, "celery beat")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(45)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
    assert code == 0, output()[-2000:]
    assert "start | stopped" in output()
    assert "did not stop in time" not in output()  # a warm shutdown, not a kill
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/accounts/login/", timeout=2)
    leftovers = subprocess.run(["pgrep", "-f", f"runserver 127.0.0.1:{port}"], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", "the dashboard process outlived Ctrl-C"

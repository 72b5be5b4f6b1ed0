"""The embedded broker (alumio_lite.broker): readers never see half-written messages, a bad file is
set aside without killing the worker, and messages held by a killed process are delivered again."""
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from kombu import Connection

from alumio_lite.celery import app
from connections.models import WorkerHeartbeat
from connections.tasks import heartbeat
from tests.support.worker import Broker, WorkerProcess, _reset_pools, wait_for

ROOT = Path(__file__).resolve().parents[2]


def options(folder: Path) -> dict:
    for sub in ("queue", "processed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {"data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"), "store_processed": False,
            "control_folder": str(folder / "control"), "polling_interval": 0.05}


def queue_name() -> str:
    # kombu keeps queue bindings in process memory: a name reused with another folder would be
    # taken as bound there already.
    return f"jobs{uuid.uuid4().hex[:8]}"


def connect(folder: Path) -> Connection:
    import alumio_lite.celery  # noqa: F401 - registers our transport for filesystem://

    return Connection("filesystem://", transport_options=options(folder))


def folders(root: Path) -> dict[str, list[str]]:
    """What each broker folder holds, for a failure message."""
    return {sub.name: sorted(p.name for p in sub.iterdir()) for sub in root.iterdir() if sub.is_dir()}


def test_readers_only_ever_see_complete_messages(tmp_path):
    name = queue_name()
    big = "x" * 1_000_000  # slow enough to write that a reader would catch a half-written file
    received: list[int] = []
    errors: list[tuple] = []
    done = threading.Event()

    def read():
        with connect(tmp_path) as conn:
            queue = conn.SimpleQueue(name)
            try:
                while len(received) < 40:
                    try:
                        message = queue.get(timeout=60)
                    except Exception as exc:  # noqa: BLE001 - reported below, with what the folders held
                        errors.append((repr(exc), f"after {len(received)} received", folders(tmp_path)))
                        return
                    assert message.payload["data"] == big
                    received.append(message.payload["n"])
                    message.ack()
            finally:
                queue.close()
                done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with connect(tmp_path) as conn:
        queue = conn.SimpleQueue(name)
        for n in range(40):
            queue.put({"n": n, "data": big})
        queue.close()
    done.wait(120)
    assert not errors, errors
    assert sorted(received) == list(range(40))
    assert not list((tmp_path / "rejected").iterdir())


def test_a_bad_file_is_set_aside_and_the_next_message_is_delivered(tmp_path, caplog):
    name = queue_name()
    queue_dir = tmp_path / "queue"
    queue_dir.mkdir()
    (queue_dir / f"000000000000001_00000000-0000-0000-0000-000000000000.{name}.msg").write_bytes(b"")
    (queue_dir / f"000000000000002_00000000-0000-0000-0000-000000000001.{name}.msg").write_bytes(b'{"half": ')
    with connect(tmp_path) as conn:
        queue = conn.SimpleQueue(name)
        queue.put({"ok": True})
        message = queue.get(timeout=10)
        message.ack()
        queue.close()
    assert message.payload == {"ok": True}
    assert sorted(p.name for p in (tmp_path / "rejected").iterdir()) == [
        f"000000000000001_00000000-0000-0000-0000-000000000000.{name}.msg",
        f"000000000000002_00000000-0000-0000-0000-000000000001.{name}.msg"]
    assert "set aside an unreadable message (an empty file)" in caplog.text
    assert not list((tmp_path / "claimed").iterdir())  # acknowledged: nothing left held


def test_a_message_held_by_a_killed_process_is_delivered_again(tmp_path):
    name = queue_name()
    with connect(tmp_path) as conn:
        queue = conn.SimpleQueue(name)
        queue.put({"job": 1})
        queue.close()
    # Another process takes the message and dies before acknowledging it.
    code = f"""
import os, signal, sys
sys.path.insert(0, {str(ROOT)!r})
import alumio_lite.broker as broker
broker.register()
from kombu import Connection
conn = Connection("filesystem://", transport_options={options(tmp_path)!r})
message = conn.SimpleQueue({name!r}).get(timeout=10)
print(message.payload, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
    taker = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "DJANGO_SETTINGS_MODULE": "alumio_lite.settings"})
    assert taker.returncode == -signal.SIGKILL and "{'job': 1}" in taker.stdout, taker.stderr
    assert len(list((tmp_path / "claimed").iterdir())) == 1

    with connect(tmp_path) as conn:  # a new process opening the broker puts it back
        queue = conn.SimpleQueue(name)
        message = queue.get(timeout=10)
        message.ack()
        queue.close()
    assert message.payload == {"job": 1}
    assert not list((tmp_path / "claimed").iterdir())


@pytest.fixture
def embedded_broker(tmp_path):
    """The embedded broker in a folder of this test's own, for this process and its workers."""
    broker = Broker("filesystem", tmp_path)
    saved_env = os.environ.get("CELERY_BROKER_URL")
    saved = broker.use_in_this_process()
    yield broker
    app.conf.broker_url, app.conf.broker_transport_options = saved
    if saved_env is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = saved_env
    _reset_pools()


@pytest.mark.slow
def test_a_real_worker_survives_an_empty_message_file_and_keeps_working(transactional_db, embedded_broker, tmp_path):
    worker = WorkerProcess(embedded_broker, tmp_path / "worker.log")
    try:
        worker.wait_ready()
        # The reproduction from the report: an empty message file in the queue.
        queue_dir = Path(embedded_broker.transport_options["data_folder_in"])
        (queue_dir / "0000000001_00000000-0000-0000-0000-000000000000.celery.msg").write_bytes(b"")
        heartbeat.delay()
        wait_for(lambda: WorkerHeartbeat.objects.exists(), timeout=90, message="the heartbeat after the bad file")
        assert worker.proc.poll() is None, worker.output()[-3000:]
        assert "set aside an unreadable message" in worker.output()
        assert "Unrecoverable error" not in worker.output()
    finally:
        worker.stop()

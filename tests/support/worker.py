"""A real `celery worker` process for end-to-end tests, on the embedded broker or on Redis.

Each test gets its own broker (a fresh filesystem folder, or a Redis database number reserved for
it), so concurrent test runs never take each other's messages. The worker reads the test database.
"""
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from alumio_lite.celery import app

BASE_DIR = Path(settings.BASE_DIR)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
# Database numbers a test may take as its broker; 14 and 15 are left to benchmarks/.
TEST_REDIS_DBS = range(1, 14)
RESERVATION = "alumio-lite-test-broker:{}"  # kept in database 0, with an expiry a crashed run cannot outlive


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def worker_database_url() -> str:
    """The URL of the database this test runs on, for a worker process to use."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Broker:
    def __init__(self, kind: str, tmp_path: Path):
        self.kind = kind
        self.reserved: str | None = None
        if kind == "redis":
            import redis

            number = self._reserve_redis_db()
            self.url = f"{REDIS_URL}/{number}"
            self.env = {"CELERY_BROKER_URL": self.url}
            redis.Redis.from_url(self.url).flushdb()
        else:
            self.url = "filesystem://"
            var_dir = tmp_path / "var"
            var_dir.mkdir(exist_ok=True)
            self.env = {"CELERY_BROKER_URL": self.url, "ALUMIO_VAR_DIR": str(var_dir)}
            folder = var_dir / "broker"
            for sub in ("queue", "processed", "control"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
            self.transport_options = {
                "data_folder_in": str(folder / "queue"),
                "data_folder_out": str(folder / "queue"),
                "processed_folder": str(folder / "processed"),
                "store_processed": False,
                "control_folder": str(folder / "control"),
                "polling_interval": 0.1,
            }

    def _reserve_redis_db(self, timeout: float = 120) -> int:
        """A database number no other test session holds right now (two sessions sharing one
        would flush and take each other's messages)."""
        import redis

        control = redis.Redis.from_url(f"{REDIS_URL}/0")
        token = f"{os.getpid()}-{random.random()}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for number in random.sample(TEST_REDIS_DBS, len(TEST_REDIS_DBS)):
                if control.set(RESERVATION.format(number), token, nx=True, ex=1800):
                    self.reserved, self._token = RESERVATION.format(number), token
                    return number
            time.sleep(0.5)
        raise TimeoutError(f"every test Redis database ({TEST_REDIS_DBS}) stayed reserved for {timeout}s")

    def release(self) -> None:
        if self.reserved:
            import redis

            control = redis.Redis.from_url(f"{REDIS_URL}/0")
            if control.get(self.reserved) == self._token.encode():
                control.delete(self.reserved)
            self.reserved = None

    def use_in_this_process(self):
        """Point the web side's Celery app at this broker (dropping pooled connections)."""
        saved = (app.conf.broker_url, app.conf.broker_transport_options)
        # Celery reads CELERY_BROKER_URL from the environment before its own broker_url setting
        # (CI sets it to Redis), so the environment must point here too; the fixture restores it.
        os.environ["CELERY_BROKER_URL"] = self.url
        app.conf.broker_url = self.url
        app.conf.broker_transport_options = getattr(self, "transport_options", {})
        _reset_pools()
        return saved


def _reset_pools():
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps producer pools in a global registry keyed by broker URL: a later test that
    # draws the same Redis database number would get the pool closed above.
    from kombu import pools

    pools.reset()


class WorkerProcess:
    """A `celery -A alumio_lite worker` subprocess; stop() asks it to end, kill() is SIGKILL."""

    def __init__(self, broker: Broker, log_path: Path, concurrency: int = 1, extra_env: dict | None = None):
        # The same SECRET_KEY (and encryption keys): the worker must decrypt the clients' secrets
        # this process saved, even when its var dir (where a generated key lives) is another one.
        keys = {"SECRET_KEY": settings.SECRET_KEY, "ENCRYPTION_KEYS": ",".join(settings.ENCRYPTION_KEYS)}
        env = {**os.environ, **broker.env, **keys, "DATABASE_URL": worker_database_url(), **(extra_env or {})}
        env.pop("CELERY_TASK_ALWAYS_EAGER", None)
        self.log_path = log_path
        self.log = open(log_path, "ab")
        cmd = [sys.executable, "-m", "celery", "-A", "alumio_lite", "worker", "--loglevel=INFO",
               f"--concurrency={concurrency}", "--without-gossip", "--without-mingle", "--queues=celery,system",
               f"--hostname=test-{os.getpid()}-{random.randint(0, 10**6)}@%h"]
        self.proc = subprocess.Popen(cmd, cwd=BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in self.output():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited early:\n{self.output()[-3000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"celery worker not ready after {timeout}s:\n{self.output()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its pool children."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            # The main process only: it shuts its pool down warmly (SIGKILL below if it hangs).
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def wait_for(predicate: Callable[[], object], timeout: float = 30, interval: float = 0.1, message: str = ""):
    """Poll until predicate() is truthy; return its value or fail with a message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message or predicate}")


@pytest.fixture(params=["filesystem", "redis"])
def broker(request, tmp_path):
    """The embedded broker and Redis, in turn. Redis is skipped when no server runs, unless CI."""
    if request.param == "redis" and not redis_available():
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required but not reachable at {REDIS_URL}")
        pytest.skip(f"no Redis server at {REDIS_URL}")
    broker = Broker(request.param, tmp_path)
    saved_env = os.environ.get("CELERY_BROKER_URL")
    saved = broker.use_in_this_process()
    yield broker
    broker.release()
    app.conf.broker_url, app.conf.broker_transport_options = saved
    if saved_env is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = saved_env
    _reset_pools()


@pytest.fixture
def start_worker(broker, transactional_db, tmp_path):
    """Factory: start_worker(concurrency=1) -> a ready WorkerProcess on this test's broker."""
    workers: list[WorkerProcess] = []

    def start(concurrency: int = 1, extra_env: dict | None = None) -> WorkerProcess:
        worker = WorkerProcess(broker, tmp_path / f"worker-{len(workers)}.log", concurrency, extra_env)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()

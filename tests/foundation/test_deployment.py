"""Production configuration: docker-compose.yml parses with the real Compose parser, and
Django's deployment checks pass with production settings."""
import json
import os
import subprocess
import sys
from pathlib import Path

import compose
import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_BIN = Path(compose.__file__).parent / "docker-compose"  # the wrapper script always exits 0
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "production-like-secret-key-with-enough-entropy-0123456789",
    "ENCRYPTION_KEYS": "bUQ5b0xwVGpVSkxqYVhKd0pRbkR1V3VmR3l4bWxWa0k=",
    "POSTGRES_PASSWORD": "s3cret-db-password",
    "PUBLIC_BASE_URL": "https://alumio.example.com",
    "ALLOWED_HOSTS": "alumio.example.com",
}


def compose_config(*args: str, env: dict) -> subprocess.CompletedProcess:
    clean_env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    return subprocess.run([str(COMPOSE_BIN), "-f", str(ROOT / "docker-compose.yml"), "config", *args],
                          env={**clean_env, **env}, capture_output=True, text=True, cwd=ROOT, timeout=60)


def production_os_env() -> dict:
    """This environment without what the test suite itself sets."""
    return {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG", "DATABASE_URL")}


def test_compose_file_is_valid_and_complete():
    result = compose_config("--format", "json", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    services = config["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert "worker" in services["worker"]["command"] and "--queues=celery" in services["worker"]["command"]
    # beat runs embedded in the worker of the system queue, which user work cannot starve
    assert {"worker", "--beat", "--queues=system"} <= set(services["beat"]["command"])
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and env["CELERY_BROKER_URL"].startswith("redis://")
        assert env["SECRET_KEY"] == PRODUCTION_ENV["SECRET_KEY"]
        assert {"ENCRYPTION_KEYS", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "PUBLIC_BASE_URL"} <= set(env)
    assert {"postgres-data", "redis-data"} <= set(config["volumes"])


def test_compose_refuses_to_start_without_secrets():
    result = compose_config("-q", env={})
    assert result.returncode != 0
    assert "required variable" in result.stderr and "in .env" in result.stderr


def test_compose_parser_rejects_a_broken_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  web:\n    image: x\n    ports: 8000\n")
    result = subprocess.run([str(COMPOSE_BIN), "-f", str(broken), "config", "-q"], capture_output=True, text=True)
    assert result.returncode != 0  # proves the parser is the real one


@pytest.mark.parametrize("debug", ["0"])
def test_deploy_checks_are_clean_with_production_settings(tmp_path, debug):
    env = {**production_os_env(), **PRODUCTION_ENV, "DEBUG": debug, "ALUMIO_VAR_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_checks_catch_an_insecure_setting(tmp_path):
    env = {**production_os_env(), **PRODUCTION_ENV, "SECURE_HSTS_SECONDS": "0", "ALUMIO_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "security.W004" in result.stdout + result.stderr

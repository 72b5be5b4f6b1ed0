"""One exported configuration, two installations (two databases) with different ${PD_BASE} values:
each calls its own Base URI. Real processes: manage.py migrate, export_config, import_config, run_incoming."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.fixtures import fake_platform  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "pd-token-9a8b7c6d5e4f"
SETUP = """
from clients.models import HttpClient
from variables.models import Variable
Variable.objects.create(name="PD_BASE", stored={"value": %(base)r})
Variable.objects.create(name="PD_TOKEN", stored={"value": %(token)r}, secret=True)
HttpClient.objects.create(name="PD", identifier="pd", platform="pipedrive",
    settings={"base_uri": "${PD_BASE}", "auth_type": "api_token"}, secrets={"api_token": "${PD_TOKEN}"})
"""
MAKE_INCOMING = """
from clients.models import HttpClient
from clients.platforms.registry import get_platform
from connections.models import Incoming
entity = get_platform("pipedrive").catalog.get("Get one user")
Incoming.objects.create(name="User", identifier="user", platform="pipedrive", method=entity.method,
    entity=entity.key, client=HttpClient.objects.get(identifier="pd"), request_parameters={"path": {"id": 1}})
"""


def manage(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(DATABASE_URL=f"sqlite:///{db}", ALUMIO_VAR_DIR=str(db.parent / db.stem), ALLOW_PRIVATE_NETWORK="1")
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.slow
def test_an_export_runs_against_each_installations_own_base_uri(tmp_path, fake_platform):  # noqa: F811
    test_server, production = fake_platform("pipedrive", records=3), fake_platform("pipedrive", records=3)
    first, second = tmp_path / "test.sqlite3", tmp_path / "production.sqlite3"
    for db, fake in ((first, test_server), (second, production)):
        manage(db, "migrate", "--noinput", "-v0")
        manage(db, "shell", "-c", SETUP % {"base": fake.base_uri, "token": TOKEN})
    manage(first, "shell", "-c", MAKE_INCOMING)
    exported = tmp_path / "export.json"
    manage(first, "export_config", "--incoming", "user", "-o", str(exported))
    text = exported.read_text()
    assert test_server.base_uri not in text and TOKEN not in text  # names travel, values stay home
    assert json.loads(text)["incoming"][0]["identifier"] == "user"

    manage(second, "import_config", str(exported))
    manage(second, "run_incoming", "user", "--sync")
    assert test_server.received == []
    assert [r.path for r in production.received] == ["/api/v1/users/1"]
    assert production.received[0].header("x-api-token") == TOKEN

    manage(first, "run_incoming", "user", "--sync")
    assert [r.path for r in test_server.received] == ["/api/v1/users/1"]

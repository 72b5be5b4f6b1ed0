"""Local state is private: var/ 0700, the SQLite database and the generated SECRET_KEY 0600."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_django(var: Path) -> None:
    """A fresh process with the default settings (SQLite under `var`) that opens its database."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "SECRET_KEY", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(ALUMIO_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="alumio_lite.settings")
    code = ("import django; django.setup(); from django.db import connection; "
            "connection.cursor().execute('CREATE TABLE IF NOT EXISTS t (x)')")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_installation_keeps_its_state_private(tmp_path):
    var = tmp_path / "var"
    start_django(var)

    assert mode(var) == 0o700
    assert mode(var / "alumio-lite.sqlite3") == 0o600
    assert mode(var / "secret_key") == 0o600


def test_an_older_installation_is_narrowed_when_it_starts(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    database = var / "alumio-lite.sqlite3"
    database.touch(mode=0o644)
    os.chmod(var, 0o755)
    os.chmod(database, 0o644)

    start_django(var)

    assert mode(var) == 0o700 and mode(database) == 0o600

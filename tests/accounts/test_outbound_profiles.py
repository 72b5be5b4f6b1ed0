"""ALLOW_PRIVATE_NETWORK: on for a local http:// run (bin/start), off in the compose production profile."""
import json
import subprocess
import sys

from tests.foundation.test_deployment import PRODUCTION_ENV, ROOT, compose_config, production_os_env


def _setting(env: dict, tmp_path) -> str:
    code = "from django.conf import settings; print(settings.ALLOW_PRIVATE_NETWORK)"
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120,
                            env={**production_os_env(), "ALUMIO_VAR_DIR": str(tmp_path), **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_compose_production_profile_refuses_private_addresses():
    result = compose_config("--format", "json", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    for name in ("web", "worker", "beat"):
        assert json.loads(result.stdout)["services"][name]["environment"]["ALLOW_PRIVATE_NETWORK"] == "0"


def test_defaults_follow_the_public_address(tmp_path):
    local = {"PUBLIC_BASE_URL": "http://127.0.0.1:8000", "ALLOW_PRIVATE_NETWORK": ""}
    production = {"PUBLIC_BASE_URL": "https://alumio.example.com", "ALLOW_PRIVATE_NETWORK": ""}
    assert _setting(local, tmp_path) == "True"
    assert _setting(production, tmp_path) == "False"
    assert _setting({**production, "ALLOW_PRIVATE_NETWORK": "1"}, tmp_path) == "True"

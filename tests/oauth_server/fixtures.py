"""pytest fixture starting the test-only OAuth provider in its own process."""
from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Provider:
    origin: str  # http://127.0.0.1:<port>
    client_id: str
    client_secret: str
    username: str = "approver"
    password: str = "approve-me-please"

    @property
    def authorize_url(self) -> str:
        return f"{self.origin}/o/authorize/"

    @property
    def copper_authorize_url(self) -> str:
        """Same consent, but the answer comes back as a POST (as Copper does)."""
        return f"{self.origin}/copper/authorize/"

    @property
    def token_url(self) -> str:
        return f"{self.origin}/o/token/"

    def token_requests(self) -> dict[str, int]:
        """How many token requests the provider received, by grant_type."""
        return requests.get(f"{self.origin}/testing/stats", timeout=5).json()

    def allow_redirect_uris(self, *uris: str) -> None:
        requests.post(f"{self.origin}/testing/redirect-uris", timeout=5,
                      data=json.dumps({"client_id": self.client_id, "redirect_uris": list(uris)})).raise_for_status()


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def approve(provider: Provider, authorize_url: str, *, deny: bool = False) -> tuple[str, dict[str, str]]:
    """Play the user at the provider with `requests`: sign in, then Authorize (or Cancel).

    Returns (method, params) of the provider's answer to the redirect URI: ("GET", query) for
    a redirect, ("POST", form fields) for Copper's auto-submitting form.
    """
    browser = requests.Session()
    r = browser.get(authorize_url, timeout=10)  # redirected to the provider's login page
    assert "/accounts/login/" in r.url, r.url
    r = browser.post(r.url, timeout=10, data={
        "username": provider.username, "password": provider.password,
        "next": parse_qs(urlsplit(r.url).query)["next"][0],
        "csrfmiddlewaretoken": browser.cookies["provider_csrftoken"],
    }, headers={"Referer": r.url})
    assert 'id="authorizationForm"' in r.text, r.text[:500]
    fields = {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(r.text)}
    if not deny:
        fields["allow"] = "Authorize"
    r = browser.post(r.url, data=fields, allow_redirects=False, timeout=10, headers={"Referer": r.url})
    if r.status_code in (301, 302):
        location = r.headers["Location"]
        return "GET", {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert r.status_code == 200 and 'method="post"' in r.text, (r.status_code, r.text[:500])
    return "POST", {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(r.text)}


def start_provider(token_ttl: int = 3600) -> tuple[Provider, subprocess.Popen, tempfile.TemporaryDirectory]:
    tmp = tempfile.TemporaryDirectory(prefix="oauth-provider-")
    provider_args = dict(client_id="dashboard-app-1f2e3d", client_secret="provider-secret-7a6b5c4d3e2f1a0b")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.oauth_server.run", "--db", os.path.join(tmp.name, "provider.sqlite3"),
         "--client-id", provider_args["client_id"], "--client-secret", provider_args["client_secret"],
         "--token-ttl", str(token_ttl)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
    )
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError(f"the test OAuth provider did not start: {line}{proc.stderr.read()}")
    port = int(line.split()[1])
    return Provider(origin=f"http://127.0.0.1:{port}", **provider_args), proc, tmp


@pytest.fixture(scope="session")
def oauth_provider():
    """A running django-oauth-toolkit provider (PKCE required, rotating refresh tokens)."""
    provider, proc, tmp = start_provider()
    yield provider
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    tmp.cleanup()

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


@dataclass(frozen=True)
class App:
    """One registered application: its credentials and what the provider demands of it."""

    client_id: str
    client_secret: str
    auth: str  # client_secret_post or client_secret_basic: the only method the token endpoint takes
    pkce: bool  # PKCE required (else none is needed)

    @property
    def arg(self) -> str:
        return f"{self.client_id}:{self.client_secret}:{self.auth}:{'required' if self.pkce else 'optional'}"


# Each platform's app demands what the platform's OAuth data says (clients/platforms/*.py).
APPS = {
    "timely": App("dashboard-app-1f2e3d", "provider-secret-7a6b5c4d3e2f1a0b", "client_secret_post", pkce=False),
    "copper": App("copper-app-4b5c6d", "copper-secret-8e9f0a1b2c3d4e5f", "client_secret_post", pkce=False),
    # For a platform whose OAuth data says pkce=True (tests swap one in): PKCE required.
    "pkce": App("pkce-app-2c3d4e", "pkce-secret-6f7a8b9c0d1e2f3a", "client_secret_post", pkce=True),
    "pipedrive": App("pipedrive-app-7a8b9c", "pipedrive-secret-1a2b3c4d5e6f7a8b", "client_secret_basic",
                     pkce=False),
}


@dataclass
class Provider:
    origin: str  # http://127.0.0.1:<port>
    apps: dict
    username: str = "approver"
    password: str = "approve-me-please"

    @property
    def client_id(self) -> str:  # the Timely-style app, the default one
        return self.apps["timely"].client_id

    @property
    def client_secret(self) -> str:
        return self.apps["timely"].client_secret

    def app(self, platform: str) -> App:
        return self.apps[platform]

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
                      data=json.dumps({"redirect_uris": list(uris)})).raise_for_status()


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
    app_args = [arg for app in APPS.values() for arg in ("--app", app.arg)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.oauth_server.run", "--db", os.path.join(tmp.name, "provider.sqlite3"),
         *app_args, "--token-ttl", str(token_ttl)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
    )
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError(f"the test OAuth provider did not start: {line}{proc.stderr.read()}")
    port = int(line.split()[1])
    return Provider(origin=f"http://127.0.0.1:{port}", apps=dict(APPS)), proc, tmp


@pytest.fixture(scope="session")
def oauth_provider():
    """A running django-oauth-toolkit provider (rotating refresh tokens; per app: PKCE and client auth)."""
    provider, proc, tmp = start_provider()
    yield provider
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    tmp.cleanup()

"""Small builders shared by the HTTP seam tests."""
from __future__ import annotations

from clients.http import ClientSession
from clients.models import HttpClient

PICQER_KEY = "pq-key-Zx81Qw"
PIPEDRIVE_TOKEN = "pd-token-Ab12Cd34"
CW_PRIVATE = "cw-private-Ef56Gh"
CW_PUBLIC = "cwpublic"
CW_CLIENT_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
TIMELY_TOKEN = "tm-access-Ij78Kl"
COPPER_KEY = "cp-key-Mn90Op"
COPPER_EMAIL = "owner@example.com"
OAUTH_SECRET = "oauth-client-secret-Qr12"
REFRESH = "refresh-token-St34"

BASES = {
    "picqer": "https://acme.picqer.test/api/v1",
    "pipedrive": "https://acme.pipedrive.test/api",
    "connectwise": "https://cw.test/v4_6_release/apis/3.0",
    "timely": "https://timely.test",
    "copper": "https://copper.test/developer_api/v1",
}

FIELDS = {
    "picqer": ({}, {"api_key": PICQER_KEY}, {}),
    "pipedrive": ({"auth_type": "api_token"}, {"api_token": PIPEDRIVE_TOKEN}, {}),
    "pipedrive_oauth": (
        {"auth_type": "oauth2", "client_id": "pd-app"},
        {"client_secret": OAUTH_SECRET},
        {"access_token": "pd-access-Uv56", "refresh_token": REFRESH},
    ),
    "connectwise": (
        {"company_id": "acme", "public_key": CW_PUBLIC, "client_id": CW_CLIENT_ID},
        {"private_key": CW_PRIVATE},
        {},
    ),
    "timely": ({"client_id": "tm-app"}, {"client_secret": OAUTH_SECRET}, {"access_token": TIMELY_TOKEN,
                                                                          "refresh_token": REFRESH}),
    "copper": (
        {"auth_type": "api_keys", "application": "developer_api", "user_email": COPPER_EMAIL},
        {"access_token": COPPER_KEY},
        {},
    ),
    "copper_oauth": (
        {"auth_type": "oauth2", "client_id": "cp-app"},
        {"client_secret": OAUTH_SECRET},
        {"access_token": "cp-access-Wx78", "refresh_token": REFRESH},
    ),
}


def make_client(kind: str, *, log_requests: bool = False, base_uri: str | None = None, **overrides) -> HttpClient:
    """A saved HttpClient of `kind` (a platform slug, or "<slug>_oauth")."""
    platform = kind.split("_")[0]
    settings, secrets, tokens = FIELDS[kind]
    settings = {"base_uri": base_uri or BASES[platform], **settings, **overrides.pop("settings", {})}
    secrets = {**secrets, **overrides.pop("secrets", {})}
    return HttpClient.objects.create(
        name=f"{kind} client",
        identifier=overrides.pop("identifier", f"{kind.replace('_', '-')}-client"),
        platform=platform,
        settings=settings,
        secrets=secrets,
        tokens=tokens,
        log_requests=log_requests,
        **overrides,
    )


class Sleeps(list):
    """An injectable sleep that records the waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def session(client: HttpClient, **kwargs) -> tuple[ClientSession, Sleeps]:
    sleeps = Sleeps()
    kwargs.setdefault("sleep", sleeps)
    return ClientSession(client, **kwargs), sleeps

"""The field names the platform modules declare are the ones clients.auth reads.

Each platform's HTTP Client is filled in from its own Field list (as the form would save it)
and the auth strategy named by Platform.auth must produce the documented headers.
"""
import base64

import pytest

from clients.auth import Credentials, auth_headers
from clients.platforms.registry import get_platform


def filled(slug: str, mode: dict | None = None) -> tuple[dict, dict]:
    """settings and secrets as a saved client holds them: every visible field given a value."""
    platform = get_platform(slug)
    settings, secrets = dict(mode or {}), {}
    for f in platform.fields:
        if f.name in settings:
            continue
        if f.show_if and not all(settings.get(k) in v for k, v in f.show_if.items()):
            continue
        value = f.default if f.default and "{" not in f.default else f"{f.name}-value"
        (secrets if f.secret else settings)[f.name] = value
    return settings, secrets


def headers_for(slug: str, mode: dict | None = None, token: str = "") -> dict:
    settings, secrets = filled(slug, mode)
    creds = Credentials(platform=get_platform(slug), settings=settings, secrets=secrets, access_token=lambda: token)
    return auth_headers(creds)


def basic(header: str) -> str:
    return base64.b64decode(header.removeprefix("Basic ")).decode()


def test_picqer_key_is_the_basic_user():
    assert basic(headers_for("picqer")["Authorization"]) == "api_key-value:"


def test_pipedrive_api_token_header_and_oauth_bearer():
    assert headers_for("pipedrive", {"auth_type": "api_token"}) == {"x-api-token": "api_token-value"}
    assert headers_for("pipedrive", {"auth_type": "oauth2"}, token="tok") == {"Authorization": "Bearer tok"}


def test_connectwise_company_plus_public_key():
    headers = headers_for("connectwise")
    assert basic(headers["Authorization"]) == "company_id-value+public_key-value:private_key-value"
    assert headers["clientId"] == "client_id-value"


def test_timely_bearer():
    assert headers_for("timely", token="tok") == {"Authorization": "Bearer tok"}


def test_copper_api_key_headers_and_oauth():
    assert headers_for("copper", {"auth_type": "api_keys"}) == {
        "X-PW-AccessToken": "pw_access_token-value",
        "X-PW-Application": "developer_api",
        "X-PW-UserEmail": "pw_user_email-value",
    }
    assert headers_for("copper", {"auth_type": "oauth2"}, token="tok") == {"Authorization": "Bearer tok"}


@pytest.mark.parametrize("slug", ["picqer", "pipedrive", "connectwise", "copper"])
def test_a_missing_secret_is_named_by_its_label(slug):
    from clients.auth import AuthError

    settings, _ = filled(slug)
    creds = Credentials(platform=get_platform(slug), settings=settings, secrets={})
    with pytest.raises(AuthError) as caught:
        auth_headers(creds)
    labels = {f.label for f in get_platform(slug).secret_fields}
    assert any(label in str(caught.value) for label in labels)

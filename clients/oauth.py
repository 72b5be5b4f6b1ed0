"""OAuth 2.0 for HTTP Clients: "Grant access" (state, PKCE, code exchange).

start_grant() makes a random, single-use `state` bound to the signed-in user, a hash of their
session key and the client, plus a PKCE S256 verifier (stored encrypted) when the platform's
OAuth data says `pkce`; it returns the provider's authorize URL. complete_grant() checks the
state (known, unused, fresh, and, when the callback carries the session, the same session),
marks it used *before* the exchange so a replay cannot race it, exchanges the code through
clients.token_requests (client authentication as the platform says, a total time bound) and
stores the tokens encrypted. Nothing is stored when anything fails.

Refreshing the tokens is clients.token_refresh (access_token() is re-exported here).
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from requests_oauthlib import OAuth2Session

from variables import resolve as variables

from .models import HttpClient, OAuthState
from .platforms.base import Platform
from .platforms.registry import get_platform
from .redaction import redact_text, secret_fields
from .token_requests import TokenRequestFailed, log_token_call, request_token

STATE_TTL = timedelta(seconds=getattr(settings, "OAUTH_STATE_TTL_SECONDS", 600))


class OAuthError(Exception):
    """A grant or refresh failed. The message is safe to show: no secret, token or code in it."""


class GrantError(OAuthError):
    """The callback cannot complete the grant; `client` is known when the state was valid."""

    def __init__(self, message: str, client: HttpClient | None = None):
        super().__init__(message)
        self.client = client


class NeedsGrant(OAuthError):
    """The client has no usable refresh token: someone must click "Grant access" again."""


class TokenEndpointUnreachable(OAuthError):
    """The token endpoint could not be reached (or answered 5xx); the stored tokens are unchanged.

    `reason` says why in plain words, `url` is the token URL (redacted). Trying again later is
    the remedy; no new grant is needed.
    """

    def __init__(self, message: str, *, reason: str = "", url: str = "", reached: bool = False):
        super().__init__(message)
        self.reason = reason
        self.url = url
        # The request may have reached the provider, which may then have replaced (rotated)
        # the refresh token although we never saw the answer: a new grant may be needed.
        self.reached = reached


# -- helpers ------------------------------------------------------------------------------
def redirect_uri() -> str:
    """The Redirect URI to register with the provider."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("clients:oauth_callback")


def _hash_session(session_key: str | None) -> str:
    return hashlib.sha256((session_key or "").encode()).hexdigest()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_transport(url: str) -> None:
    """Only HTTPS, except plain HTTP to this machine (local development and the test suite).

    oauthlib refuses http:// unless OAUTHLIB_INSECURE_TRANSPORT is set; we set it only after
    our own, narrower check has passed, so a remote http:// endpoint is still refused.
    """
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
        return
    raise OAuthError(f"the OAuth endpoint must use https:// (got {parts.scheme or 'no'} scheme)")


def endpoints(client: HttpClient) -> tuple[str, str, list[str] | None]:
    """(authorize URL, token URL, scopes) for the client: its own fields override the defaults."""
    platform = get_platform(client.platform)
    oauth = platform.oauth
    if oauth is None:
        raise OAuthError(f"{platform.label} does not use OAuth")
    s = _resolved(client)[0]
    authorize = s.get(oauth.authorize_url_field) or oauth.authorize_url
    token = s.get(oauth.token_url_field) or oauth.token_url
    scopes: list[str] | None = None
    if oauth.scopes_field and s.get(oauth.scopes_field):
        scopes = s[oauth.scopes_field].replace(",", " ").split()
    elif oauth.default_scopes:
        scopes = list(oauth.default_scopes)
    return authorize, token, scopes


def _resolved(client: HttpClient) -> tuple[dict, dict]:
    """The client's settings and secrets with ${NAME} environment variables replaced (variables/)."""
    settings_, secrets_, unknown = variables.client_fields(client)
    if unknown:
        raise OAuthError(unknown)
    return settings_, secrets_


def _client_credentials(client: HttpClient, platform: Platform) -> tuple[str, str]:
    settings_, secrets_ = _resolved(client)
    client_id = settings_.get("client_id") or secrets_.get("client_id") or ""
    client_secret = secrets_.get("client_secret") or ""
    if not client_id or not client_secret:
        raise OAuthError(f"fill in Client ID and Client Secret before granting access to {platform.label}")
    return client_id, client_secret


def _safe(message: str, client: HttpClient, *extra: str) -> str:
    return redact_text(message, [*client.secret_values(), *extra])


def store_token(client: HttpClient, token: dict) -> dict:
    """The column values for a token answer. A missing refresh token keeps the old one."""
    previous = client.tokens or {}
    tokens = {
        "access_token": token["access_token"],
        "refresh_token": token.get("refresh_token") or previous.get("refresh_token", ""),
        "token_type": token.get("token_type", "Bearer"),
        "scope": " ".join(token["scope"]) if isinstance(token.get("scope"), list) else token.get("scope", ""),
    }
    expires_in = token.get("expires_in")
    try:
        expires_at = timezone.now() + timedelta(seconds=int(expires_in)) if expires_in else None
    except (TypeError, ValueError):
        expires_at = None
    return {"tokens": tokens, "token_expires_at": expires_at, "auth_state": HttpClient.AuthState.GRANTED,
            "auth_error": "", "refresh_error": "", "refresh_failed_at": None}


def auth_method(platform: Platform) -> str:
    return platform.oauth.token_endpoint_auth if platform.oauth else "client_secret_post"


# -- Grant access -------------------------------------------------------------------------
def start_grant(request, client: HttpClient) -> str:
    """Create a one-time state for `client` and return the provider's authorize URL."""
    platform = get_platform(client.platform)
    if not platform.uses_oauth(client.settings):
        raise OAuthError(f"this {platform.client_label} does not use OAuth 2.0")
    client_id, _ = _client_credentials(client, platform)
    authorize_url, _, scopes = endpoints(client)
    _check_transport(authorize_url)
    if not request.session.session_key:
        request.session.save()
    state = secrets.token_urlsafe(32)
    # PKCE only where the platform's OAuth data says its provider takes it.
    verifier = secrets.token_urlsafe(64) if platform.oauth.pkce else ""  # 86 characters: RFC 7636's 43..128
    # Expired attempts of this user are of no further use.
    OAuthState.objects.filter(user=request.user, created_at__lt=timezone.now() - STATE_TTL).delete()
    OAuthState.objects.create(
        state=state,
        client=client,
        user=request.user,
        session_key_hash=_hash_session(request.session.session_key),
        code_verifier={"value": verifier} if verifier else {},
    )
    session = OAuth2Session(client_id, redirect_uri=redirect_uri(), scope=scopes)
    pkce = {}
    if verifier:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}
    url, _ = session.authorization_url(authorize_url, state=state, **pkce)
    return url


def _claim_state(state: str, session_key: str | None, user) -> tuple[HttpClient, str]:
    """Mark the state used and return (client, code verifier), or raise GrantError."""
    if not state:
        raise GrantError("The provider's answer carries no state; start again with Grant access.")
    with transaction.atomic():
        row = OAuthState.objects.select_for_update().select_related("client").filter(state=state).first()
        if row is None:
            raise GrantError("This Grant access answer is unknown; start again with Grant access.")
        if row.used_at is not None:
            raise GrantError("This Grant access answer was already used; start again with Grant access.", row.client)
        # Checked before the state is spent: another browser (or user) must not be able to burn it.
        if session_key is not None and row.session_key_hash != _hash_session(session_key):
            raise GrantError("This Grant access was started in another browser session; start again.", row.client)
        if user is not None and user.is_authenticated and user.pk != row.user_id:
            raise GrantError("This Grant access was started by another user; start again.", row.client)
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
    # From here on the state is spent, whatever happens next.
    if row.created_at < timezone.now() - STATE_TTL:
        raise GrantError("This Grant access attempt expired; start again with Grant access.", row.client)
    return row.client, (row.code_verifier or {}).get("value", "")


def complete_grant(*, state: str, code: str = "", error: str = "", error_description: str = "",
                   session_key: str | None = None, user=None) -> HttpClient:
    """Finish a grant from the provider's callback; returns the client with its tokens saved.

    session_key/user: the dashboard session and user of the callback request; the state must
    have been made by them (the POST callback is handed on to a GET first, so both carry them).
    """
    client, verifier = _claim_state(state, session_key, user)
    platform = get_platform(client.platform)
    if error:
        if error == "access_denied":
            raise GrantError(f"Access was not granted: {platform.label} says the request was denied.", client)
        detail = f" ({error_description[:200]})" if error_description else ""
        raise GrantError(_safe(f"{platform.label} refused the grant: {error[:100]}{detail}", client), client)
    if not code:
        raise GrantError(f"{platform.label} sent no authorization code; start again with Grant access.", client)
    try:
        client_id, client_secret = _client_credentials(client, platform)
        _, token_url, scopes = endpoints(client)
        _check_transport(token_url)
    except OAuthError as exc:
        raise GrantError(str(exc), client) from None
    try:
        token, call = request_token(
            token_url=token_url, grant_type="authorization_code", client_id=client_id,
            client_secret=client_secret, auth_method=auth_method(platform), label=platform.label,
            secrets=client.secret_values(), code=code, redirect_uri=redirect_uri(), code_verifier=verifier,
        )
    except TokenRequestFailed as exc:
        hint = {
            "unreachable": "check the Token URL and try Grant access again",
            "refused": "check the Client ID, Client Secret and Redirect URI registered with the provider, "
                       "then try Grant access again",
            "unusable": "check that the Token URL is the provider's token endpoint",
        }[exc.kind]
        message = _safe(f"The code exchange failed: {exc}; {hint}.", client, code, verifier)
        log_token_call(client, exc.call, message, [code, verifier])
        raise GrantError(message, client) from None
    log_token_call(client, call, "", [code, verifier, *secret_fields(token)])
    values = store_token(client, token)
    HttpClient.objects.filter(pk=client.pk).update(
        **values, token_version=F("token_version") + 1, refresh_claim="", refresh_claimed_until=None,
        updated_at=timezone.now())
    client.refresh_from_db()
    return client


# Refresh lives in its own module; these names stay importable from here.
from .token_refresh import REFRESH_MARGIN, access_token  # noqa: E402, F401

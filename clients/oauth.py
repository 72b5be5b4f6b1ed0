"""OAuth 2.0 for HTTP Clients: "Grant access" (state, PKCE, code exchange) and token refresh.

Grant access:
  start_grant() makes a random, single-use `state` bound to the signed-in user, a hash of
  their session key and the client, plus a PKCE S256 verifier (stored encrypted); it returns
  the provider's authorize URL. complete_grant() checks the state (known, unused, fresh, and,
  when the callback carries the session, the same session), marks it used *before* the
  exchange so a replay cannot race it, exchanges the code with requests-oauthlib and stores
  the tokens encrypted. Nothing is stored when anything fails.

Refresh:
  access_token() returns a valid token, refreshing it shortly before it expires or when the
  HTTP seam saw a 401 (force_refresh). Refreshes are serialised per client across processes
  with select_for_update() inside a transaction (on SQLite the IMMEDIATE transaction mode
  takes the write lock); after taking the lock the expiry is checked again because another
  worker may just have refreshed. `invalid_grant` marks the client "needs_grant" and raises
  NeedsGrant.

PKCE is always sent: providers that do not know it ignore the extra parameters (RFC 7636),
and for those that do it protects the code against interception.
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import secrets
import time
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from oauthlib.oauth2 import InvalidGrantError, OAuth2Error
from requests_oauthlib import OAuth2Session

from . import outbound
from .errors import describe_request_error
from .models import HttpClient, OAuthState
from .platforms.base import Platform
from .platforms.registry import get_platform
from .redaction import redact_body, redact_headers, redact_text, redact_url, secret_fields

# A provider may grant other scopes than asked for; that is not an error for us.
os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")

STATE_TTL = timedelta(seconds=getattr(settings, "OAUTH_STATE_TTL_SECONDS", 600))
REFRESH_MARGIN = timedelta(seconds=getattr(settings, "OAUTH_REFRESH_MARGIN_SECONDS", 60))


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

    def __init__(self, message: str, *, reason: str = "", url: str = ""):
        super().__init__(message)
        self.reason = reason
        self.url = url


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
    s = client.settings
    authorize = s.get(oauth.authorize_url_field) or oauth.authorize_url
    token = s.get(oauth.token_url_field) or oauth.token_url
    scopes: list[str] | None = None
    if oauth.scopes_field and s.get(oauth.scopes_field):
        scopes = s[oauth.scopes_field].replace(",", " ").split()
    elif oauth.default_scopes:
        scopes = list(oauth.default_scopes)
    return authorize, token, scopes


def _client_credentials(client: HttpClient, platform: Platform) -> tuple[str, str]:
    client_id = client.settings.get("client_id") or client.secrets.get("client_id") or ""
    client_secret = client.secrets.get("client_secret") or ""
    if not client_id or not client_secret:
        raise OAuthError(f"fill in Client ID and Client Secret before granting access to {platform.label}")
    return client_id, client_secret


def _safe(message: str, client: HttpClient, *extra: str) -> str:
    return redact_text(message, [*client.secret_values(), *extra])


def _timeout() -> tuple[float, float]:
    return (settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT)


def _store_token(client: HttpClient, token: dict) -> None:
    """Put a token response on `client` (not saved). A missing refresh token keeps the old one."""
    previous = client.tokens or {}
    client.tokens = {
        "access_token": token["access_token"],
        "refresh_token": token.get("refresh_token") or previous.get("refresh_token", ""),
        "token_type": token.get("token_type", "Bearer"),
        "scope": " ".join(token["scope"]) if isinstance(token.get("scope"), list) else token.get("scope", ""),
    }
    expires_in = token.get("expires_in")
    try:
        client.token_expires_at = timezone.now() + timedelta(seconds=int(expires_in)) if expires_in else None
    except (TypeError, ValueError):
        client.token_expires_at = None
    client.auth_state = HttpClient.AuthState.GRANTED
    client.auth_error = ""


class _LoggedOAuth2Session(OAuth2Session):
    """An OAuth2Session that remembers its last token request and answer, to be logged redacted.

    fetch_token() and refresh_token() both end in request(); the exchange is kept here and
    written by _log_token_request() once the caller knows whether it succeeded.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        outbound.guard(self)  # token URLs obey the outbound policy too
        self.exchange: dict | None = None

    def request(self, method, url, data=None, headers=None, **kwargs):  # noqa: ANN001 - requests' signature
        started = time.perf_counter()
        self.exchange = {"method": method, "url": url, "data": data, "response": None, "request": None}
        try:
            response = super().request(method, url, data=data, headers=headers, **kwargs)
        except requests.RequestException as exc:
            self.exchange.update(request=exc.request, elapsed_ms=_ms(started))
            raise
        self.exchange.update(response=response, request=response.request, elapsed_ms=_ms(started))
        return response


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _token_status(session: _LoggedOAuth2Session) -> int | None:
    response = (session.exchange or {}).get("response")
    return response.status_code if response is not None else None


def _server_error(
    session: _LoggedOAuth2Session, platform: Platform, token_url: str, client: HttpClient
) -> TokenEndpointUnreachable | None:
    """A 5xx from the token endpoint, whatever its body: unavailable, not a refused refresh."""
    status = _token_status(session)
    if status is None or status < 500:
        return None
    return TokenEndpointUnreachable(
        f"the token endpoint of {platform.label} cannot be reached: it answered HTTP {status}",
        reason=f"it answered HTTP {status}", url=redact_url(token_url, client.secret_values()),
    )


def _log_token_request(client: HttpClient, session: _LoggedOAuth2Session, error: str, *secret_values: str,
                       run_id: int | None = None, task_id: int | None = None) -> None:
    """Write a RequestLog for the last token request: always on failure, else if the client logs.

    `run_id`/`task_id`: the run or task whose call needed the refresh, so its log shows it.

    Every credential is redacted by name (client_secret, code, code_verifier, refresh_token,
    access_token, id_token in form and JSON bodies, Authorization headers) and by value (the
    client's secrets, the code and verifier, old and new tokens).
    """
    from .models import RequestLog

    exchange = session.exchange
    if exchange is None:
        return  # nothing was sent
    response, prepared = exchange["response"], exchange["request"]
    status = response.status_code if response is not None else None
    failed = bool(error) or status is None or status >= 400
    if not (failed or client.log_requests):
        return
    response_text = response.text if response is not None else ""
    try:
        answer = response.json() if response is not None else None
    except ValueError:
        answer = None
    secrets_list = [*client.secret_values(), *(v for v in secret_values if v), *secret_fields(answer)]
    if prepared is not None:
        body = prepared.body.decode("utf-8", "replace") if isinstance(prepared.body, bytes) else prepared.body or ""
        request_headers = dict(prepared.headers)
    else:
        from urllib.parse import urlencode

        body = urlencode(exchange["data"] or {})
        request_headers = {}
    limit = settings.REQUEST_LOG_BODY_LIMIT
    RequestLog.objects.create(
        client_id=client.pk,
        run_id=run_id,
        task_id=task_id,
        method=str(exchange["method"]).upper(),
        url=redact_url(response.url if response is not None else exchange["url"], secrets_list),
        status=status,
        duration_ms=exchange.get("elapsed_ms", 0),
        request_headers=redact_headers(request_headers, secrets_list),
        request_body=redact_body(body, secrets_list)[:limit],
        response_headers=redact_headers(response.headers if response is not None else {}, secrets_list),
        response_body=redact_body(response_text, secrets_list)[:limit],
        error=redact_text(error, secrets_list),
    )


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
    verifier = secrets.token_urlsafe(64)  # 86 characters, inside RFC 7636's 43..128
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    # Expired attempts of this user are of no further use.
    OAuthState.objects.filter(user=request.user, created_at__lt=timezone.now() - STATE_TTL).delete()
    OAuthState.objects.create(
        state=state,
        client=client,
        user=request.user,
        session_key_hash=_hash_session(request.session.session_key),
        code_verifier={"value": verifier},
    )
    session = OAuth2Session(client_id, redirect_uri=redirect_uri(), scope=scopes)
    url, _ = session.authorization_url(
        authorize_url, state=state, code_challenge=challenge, code_challenge_method="S256"
    )
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
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
    # From here on the state is spent, whatever happens next.
    if row.created_at < timezone.now() - STATE_TTL:
        raise GrantError("This Grant access attempt expired; start again with Grant access.", row.client)
    if session_key is not None and row.session_key_hash != _hash_session(session_key):
        raise GrantError("This Grant access was started in another browser session; start again.", row.client)
    if user is not None and user.is_authenticated and user.pk != row.user_id:
        raise GrantError("This Grant access was started by another user; start again.", row.client)
    return row.client, (row.code_verifier or {}).get("value", "")


def complete_grant(*, state: str, code: str = "", error: str = "", error_description: str = "",
                   session_key: str | None = None, user=None) -> HttpClient:
    """Finish a grant from the provider's callback; returns the client with its tokens saved.

    session_key/user: given when the callback request carries the dashboard's session (the GET
    callback); the POST callback (Copper) arrives cross-site without it, and relies on the
    state alone.
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
    session = _LoggedOAuth2Session(client_id, redirect_uri=redirect_uri(), scope=scopes)
    token: dict = {}
    failure: GrantError | None = None
    try:
        token = session.fetch_token(
            token_url,
            code=code,
            client_secret=client_secret,
            include_client_id=True,
            code_verifier=verifier,
            timeout=_timeout(),
        )
    except OAuth2Error as exc:
        failure = GrantError(_safe(f"The token request to {platform.label} failed: {exc.error}"
                                   f"{' (' + exc.description + ')' if exc.description else ''}",
                                   client, code, verifier), client)
    except requests.RequestException as exc:
        reason = describe_request_error(exc, _timeout())
        failure = GrantError(_safe(f"The token endpoint of {platform.label} cannot be reached: "
                                   f"{reason}; check the Token URL and try Grant access again",
                                   client, code, verifier), client)
    except (ValueError, KeyError) as exc:
        failure = GrantError(_safe(f"The token response of {platform.label} is not usable: {exc}",
                                   client, code, verifier), client)
    else:
        if not token.get("access_token"):
            failure = GrantError(f"The token response of {platform.label} has no access token.", client)
    _log_token_request(client, session, str(failure) if failure else "", code, verifier, *secret_fields(token))
    if failure is not None:
        raise failure
    _store_token(client, token)
    client.save(update_fields=["tokens", "token_expires_at", "auth_state", "auth_error", "updated_at"])
    return client


# -- refresh ------------------------------------------------------------------------------
def _fresh(tokens: dict, expires_at) -> bool:
    if not tokens.get("access_token"):
        return False
    return expires_at is None or expires_at - REFRESH_MARGIN > timezone.now()


def _mark_needs_grant(client: HttpClient, reason: str) -> None:
    client.auth_state = HttpClient.AuthState.NEEDS_GRANT
    client.auth_error = reason
    HttpClient.objects.filter(pk=client.pk).update(
        auth_state=client.auth_state, auth_error=reason, updated_at=timezone.now()
    )


def access_token(client: HttpClient, force_refresh: bool = False, *,
                 run_id: int | None = None, task_id: int | None = None) -> str:
    """A valid access token for an OAuth client, refreshed first when near expiry or forced.

    `force_refresh` is for a 401 with the token the caller holds: if another worker has
    replaced that token meanwhile, the new one is returned without a second refresh.
    Raises NeedsGrant when a person must grant access again, OAuthError when the provider
    cannot be reached (the stored tokens are then left as they were).
    """
    platform = get_platform(client.platform)
    held = (client.tokens or {}).get("access_token", "")
    if not force_refresh and _fresh(client.tokens or {}, client.token_expires_at):
        return held

    failure: OAuthError | None = None
    with transaction.atomic():
        locked = HttpClient.objects.select_for_update().get(pk=client.pk)
        current = locked.tokens or {}
        if force_refresh and current.get("access_token") and current.get("access_token") != held \
                and _fresh(current, locked.token_expires_at):
            pass  # another worker refreshed after our 401
        elif not force_refresh and _fresh(current, locked.token_expires_at):
            pass  # another worker refreshed while we waited for the lock
        elif not current.get("refresh_token"):
            failure = NeedsGrant(f"no refresh token: grant access to {platform.label} again")
        else:
            failure = _refresh_locked(locked, platform, run_id=run_id, task_id=task_id)
        if failure is None:
            client.tokens, client.token_expires_at = locked.tokens, locked.token_expires_at
            client.auth_state, client.auth_error = locked.auth_state, locked.auth_error
    # Outside the transaction, so the "needs grant" mark is not rolled back with the error.
    if isinstance(failure, NeedsGrant):
        _mark_needs_grant(client, str(failure))
    if failure is not None:
        raise failure
    return client.tokens["access_token"]


def _refresh_locked(locked: HttpClient, platform: Platform, *,
                    run_id: int | None = None, task_id: int | None = None) -> OAuthError | None:
    """Refresh `locked` (a row held with select_for_update) and save it; an error is returned."""
    try:
        client_id, client_secret = _client_credentials(locked, platform)
        _, token_url, _ = endpoints(locked)
        _check_transport(token_url)
    except OAuthError as exc:
        return exc
    old_tokens = [v for k, v in (locked.tokens or {}).items() if k in ("access_token", "refresh_token") and v]
    session = _LoggedOAuth2Session(client_id, token=locked.tokens)
    token: dict = {}
    failure: OAuthError | None = None
    try:
        token = session.refresh_token(
            token_url,
            refresh_token=locked.tokens["refresh_token"],
            client_id=client_id,
            client_secret=client_secret,
            timeout=_timeout(),
        )
    except InvalidGrantError as exc:
        reason = f"invalid_grant: {exc.description}" if exc.description else "invalid_grant"
        failure = NeedsGrant(_safe(f"{platform.label} refused the refresh token ({reason}); grant access again",
                                   locked))
    except OAuth2Error as exc:
        failure = _server_error(session, platform, token_url, locked) or OAuthError(
            _safe(f"token refresh at {platform.label} failed: {exc.error}", locked)
        )
    except requests.RequestException as exc:
        reason = describe_request_error(exc, _timeout())
        failure = TokenEndpointUnreachable(
            _safe(f"the token endpoint of {platform.label} cannot be reached: {reason}", locked),
            reason=reason, url=redact_url(token_url, locked.secret_values()),
        )
    except (ValueError, KeyError) as exc:
        failure = _server_error(session, platform, token_url, locked) or OAuthError(
            _safe(f"the token response of {platform.label} is not usable: {exc}", locked)
        )
    else:
        if not token.get("access_token"):
            failure = OAuthError(f"the token response of {platform.label} has no access token")
    _log_token_request(locked, session, str(failure) if failure else "", *old_tokens, *secret_fields(token),
                       run_id=run_id, task_id=task_id)
    if failure is not None:
        return failure
    _store_token(locked, token)
    locked.save(update_fields=["tokens", "token_expires_at", "auth_state", "auth_error", "updated_at"])
    return None

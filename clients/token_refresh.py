"""Refreshing an HTTP Client's OAuth access token, exactly once across processes, with no
database lock held while the token endpoint is called.

access_token() returns a valid token, refreshing it shortly before it expires (inside
REFRESH_MARGIN) or when the HTTP seam saw a 401 (force_refresh). A refresh:

1. claims a lease: one conditional UPDATE sets `refresh_claim` / `refresh_claimed_until` on
   the client's row if no unexpired lease is there. Whoever loses waits, polling the row
   (plain reads, no lock), until the winner has saved new tokens or the lease has expired;
2. calls the token endpoint outside any transaction (clients.token_requests bounds its total
   time, and the lease outlives that bound);
3. saves with compare-and-set: the UPDATE only applies while `token_version` is the one the
   refresh started from, so tokens saved meanwhile by a new grant are never overwritten.

A refresh attempted early (the access token still valid) that fails keeps serving the valid
token and records the failure for the client's badge. `invalid_grant` marks the client
"Needs grant" and raises NeedsGrant.
"""
from __future__ import annotations

import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from .models import HttpClient
from .platforms.registry import get_platform
from .redaction import redact_url, secret_fields
from .token_requests import TokenRequestFailed, log_token_call, request_token, total_timeout

REFRESH_MARGIN = timedelta(seconds=getattr(settings, "OAUTH_REFRESH_MARGIN_SECONDS", 60))
POLL_SECONDS = 0.2


def lease_seconds() -> float:
    """How long a refresh may hold its claim: past the token request's own time bound."""
    return total_timeout() + 15


def _fresh(tokens: dict, expires_at, margin: timedelta = REFRESH_MARGIN) -> bool:
    if not tokens.get("access_token"):
        return False
    return expires_at is None or expires_at - margin > timezone.now()


def _adopt(client: HttpClient, row: HttpClient) -> None:
    """Copy the stored auth fields of `row` onto the caller's instance."""
    for name in HttpClient.AUTH_FIELDS:
        setattr(client, name, getattr(row, name))
    client.remember_auth()


def _load(client: HttpClient) -> HttpClient:
    return HttpClient.objects.only("id", "platform", "settings", "secrets", "log_requests",
                                   *HttpClient.AUTH_FIELDS).get(pk=client.pk)


def access_token(client: HttpClient, force_refresh: bool = False, *,
                 run_id: int | None = None, task_id: int | None = None) -> str:
    """A valid access token for an OAuth client, refreshed first when near expiry or forced.

    `force_refresh` is for a 401 with the token the caller holds: if another worker has
    replaced that token meanwhile, the new one is returned without a second refresh.
    Raises NeedsGrant when a person must grant access again, OAuthError (or its
    TokenEndpointUnreachable) when no valid token can be had; stored tokens are then unchanged.
    """
    from .oauth import NeedsGrant, OAuthError

    held = (client.tokens or {}).get("access_token", "")
    if not force_refresh and _fresh(client.tokens or {}, client.token_expires_at):
        return held
    platform = get_platform(client.platform)
    give_up = time.monotonic() + lease_seconds() + 5
    waiting_since = None
    while True:
        row = _load(client)
        current = row.tokens or {}
        if _fresh(current, row.token_expires_at) and (not force_refresh or current["access_token"] != held):
            _adopt(client, row)  # another worker refreshed (after our 401, or while we waited)
            return current["access_token"]
        if not current.get("refresh_token"):
            _mark_needs_grant(client, f"no refresh token: grant access to {platform.label} again")
            raise NeedsGrant(f"no refresh token: grant access to {platform.label} again")
        if waiting_since and row.refresh_failed_at and row.refresh_failed_at >= waiting_since and row.refresh_error:
            # The refresh we waited for failed: share its outcome instead of trying again at once.
            return _fall_back(client, row, force_refresh, OAuthError(row.refresh_error))
        claim = _claim(row)
        if claim:
            break
        waiting_since = waiting_since or timezone.now()
        if time.monotonic() > give_up:  # a claim that never ends: its holder died; it expires on its own
            return _fall_back(client, row, force_refresh,
                              _unreachable(platform, row, "another refresh of this client did not finish"))
        time.sleep(POLL_SECONDS)
    try:
        failure = _refresh(row, platform, claim, run_id=run_id, task_id=task_id)
    finally:
        HttpClient.objects.filter(pk=row.pk, refresh_claim=claim).update(refresh_claim="",
                                                                          refresh_claimed_until=None)
    stored = _load(client)
    if failure is None:
        _adopt(client, stored)
        return stored.tokens["access_token"]
    return _fall_back(client, stored, force_refresh, failure)


def _claim(row: HttpClient) -> str:
    """Take the refresh lease of `row`'s client; returns the claim, or "" if another holds it."""
    claim = secrets.token_urlsafe(24)
    now = timezone.now()
    taken = HttpClient.objects.filter(pk=row.pk, token_version=row.token_version).filter(
        Q(refresh_claimed_until__isnull=True) | Q(refresh_claimed_until__lt=now)
    ).update(refresh_claim=claim, refresh_claimed_until=now + timedelta(seconds=lease_seconds()))
    return claim if taken else ""


def _fall_back(client: HttpClient, row: HttpClient, force_refresh: bool, failure: Exception) -> str:
    """After a failed refresh: the still-valid access token of an early refresh, else the error."""
    from .oauth import NeedsGrant

    _adopt(client, row)
    token = (row.tokens or {}).get("access_token", "")
    if not force_refresh and not isinstance(failure, NeedsGrant) and _fresh(row.tokens or {}, row.token_expires_at,
                                                                             margin=timedelta(0)):
        return token
    raise failure


def _refresh(row: HttpClient, platform, claim: str, *, run_id: int | None, task_id: int | None):
    """Call the token endpoint for `row` (lease held) and save the answer; returns an error or None."""
    from .oauth import (
        NeedsGrant,
        OAuthError,
        _check_transport,
        _client_credentials,
        _safe,
        auth_method,
        endpoints,
        store_token,
    )

    try:
        client_id, client_secret = _client_credentials(row, platform)
        _, token_url, _ = endpoints(row)
        _check_transport(token_url)
    except OAuthError as exc:
        return _record_failure(row, exc)
    old = [v for k, v in (row.tokens or {}).items() if k in ("access_token", "refresh_token") and v]
    try:
        token, call = request_token(
            token_url=token_url, grant_type="refresh_token", client_id=client_id, client_secret=client_secret,
            auth_method=auth_method(platform), label=platform.label, secrets=row.secret_values(),
            refresh_token=row.tokens["refresh_token"],
        )
    except TokenRequestFailed as exc:
        if exc.kind == "refused" and exc.oauth_error == "invalid_grant":
            failure = NeedsGrant(_safe(f"{platform.label} refused the refresh token ({exc}); grant access again",
                                       row, *old))
        elif exc.kind == "unreachable":
            failure = _unreachable(platform, row, _safe(exc.reason, row, *old), reached=exc.call.sent)
        else:
            failure = OAuthError(_safe(f"token refresh at {platform.label} failed: {exc}", row, *old))
        log_token_call(row, exc.call, str(failure), old, run_id=run_id, task_id=task_id)
        if isinstance(failure, NeedsGrant):
            _mark_needs_grant(row, str(failure), version=row.token_version)
            return failure
        return _record_failure(row, failure)
    log_token_call(row, call, "", [*old, *secret_fields(token)], run_id=run_id, task_id=task_id)
    # Compare-and-set: a new grant saved meanwhile wins, and this answer is dropped.
    HttpClient.objects.filter(pk=row.pk, token_version=row.token_version).update(
        **store_token(row, token), token_version=F("token_version") + 1, updated_at=timezone.now())
    return None


def _unreachable(platform, row: HttpClient, reason: str, *, reached: bool = False):
    from .oauth import TokenEndpointUnreachable, endpoints

    _, token_url, _ = endpoints(row)
    return TokenEndpointUnreachable(f"the token endpoint of {platform.label} cannot be reached: {reason}",
                                    reason=reason, reached=reached, url=redact_url(token_url, row.secret_values()))


def _record_failure(row: HttpClient, failure: Exception) -> Exception:
    """Keep the failure on the client (its badge shows it) while the grant itself stands."""
    HttpClient.objects.filter(pk=row.pk).update(refresh_error=str(failure)[:2000], refresh_failed_at=timezone.now())
    return failure


def _mark_needs_grant(client: HttpClient, reason: str, version: int | None = None) -> None:
    rows = HttpClient.objects.filter(pk=client.pk)
    if version is not None:  # only if no new grant was saved while the refresh was on its way
        rows = rows.filter(token_version=version)
    rows.update(auth_state=HttpClient.AuthState.NEEDS_GRANT, auth_error=reason, updated_at=timezone.now())
    client.auth_state, client.auth_error = HttpClient.AuthState.NEEDS_GRANT, reason

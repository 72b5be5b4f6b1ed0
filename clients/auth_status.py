"""What an HTTP Client's authentication badge says, and the few writes that keep it truthful.

The auth fields (HttpClient.AUTH_FIELDS) are written here and by the token code only, with
targeted, conditional UPDATEs, never by saving a whole client a form has edited:

- key_refused / key_accepted: the platform answered 401 to an API-key client (its badge turns
  "API key refused"), and the next accepted call turns it back;
- after_edit: the edit form changed settings or secrets that decide how the client signs in;
- summary: the badge class and text for the list and the client page.
"""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from .forms import is_active
from .models import HttpClient
from .platforms.base import Platform
from .platforms.registry import UnknownPlatform, get_platform

CREDENTIALS, REFUSED = HttpClient.AuthState.CREDENTIALS, HttpClient.AuthState.REFUSED
NEEDS_GRANT, GRANTED = HttpClient.AuthState.NEEDS_GRANT, HttpClient.AuthState.GRANTED


def key_refused(client: HttpClient, reason: str) -> None:
    """The platform answered 401 to this API-key client's stored credentials."""
    if not isinstance(client, HttpClient) or client.pk is None:
        return  # a preview's stand-in client: nothing stored to mark
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    message = f"{reason} at {stamp}: check the API key"
    HttpClient.objects.filter(pk=client.pk, auth_state__in=(CREDENTIALS, REFUSED)).update(
        auth_state=REFUSED, auth_error=message[:2000])
    if client.auth_state in (CREDENTIALS, REFUSED):
        client.auth_state, client.auth_error = REFUSED, message[:2000]
        client.remember_auth()


def key_accepted(client: HttpClient) -> None:
    """A call with the stored key succeeded: an earlier refusal no longer holds."""
    if not isinstance(client, HttpClient) or client.auth_state != REFUSED:
        return
    HttpClient.objects.filter(pk=client.pk, auth_state=REFUSED).update(auth_state=CREDENTIALS, auth_error="")
    client.auth_state, client.auth_error = CREDENTIALS, ""
    client.remember_auth()


def initial_state(platform: Platform, settings: dict) -> str:
    return NEEDS_GRANT if platform.uses_oauth(settings) else CREDENTIALS


def after_edit(client: HttpClient, platform: Platform, old_settings: dict, old_secrets: dict, *,
               hosts_changed: bool = False) -> None:
    """Keep the auth state truthful after the edit form saved new settings or secrets.

    Switching to OAuth needs a grant; a new app, authorize or token URL, or a new host for the
    credentials (`hosts_changed`), makes the tokens useless or unsafe to send: they are
    dropped. New API credentials clear an earlier refusal.
    """
    rows = HttpClient.objects.filter(pk=client.pk)
    if hosts_changed:  # tokens were issued for the old host: grant access again
        rows.update(tokens={}, token_expires_at=None, refresh_error="", refresh_failed_at=None)
    if not platform.uses_oauth(client.settings):
        if client.auth_state != CREDENTIALS and (client.auth_state != REFUSED or client.secrets != old_secrets):
            rows.update(auth_state=CREDENTIALS, auth_error="")
    else:
        oauth = platform.oauth
        identity = ("client_id", oauth.token_url_field, oauth.authorize_url_field)
        if hosts_changed or any(old_settings.get(k) != client.settings.get(k) for k in identity):
            rows.update(tokens={}, token_expires_at=None, auth_state=NEEDS_GRANT, auth_error="",
                        refresh_error="", refresh_failed_at=None)
        elif client.auth_state not in (GRANTED, NEEDS_GRANT):
            rows.update(auth_state=NEEDS_GRANT, auth_error="")
    fresh = HttpClient.objects.get(pk=client.pk)
    for name in HttpClient.AUTH_FIELDS:
        setattr(client, name, getattr(fresh, name))
    client.remember_auth()


def summary(client: HttpClient) -> tuple[str, str]:
    """(badge class, text) for the list and the client page."""
    try:
        platform = get_platform(client.platform)
    except UnknownPlatform:
        platform = None
    settings = client.settings or {}
    if platform is None or not platform.uses_oauth(settings):
        if platform and any(not client.secrets.get(f.name) for f in platform.secret_fields
                            if f.required and is_active(f, settings)):
            return "warn", "API key not set"
        if client.auth_state == REFUSED:
            return "err", "API key refused"
        return "ok", "API key set"
    tokens = client.tokens or {}
    if client.auth_state == NEEDS_GRANT or not tokens.get("access_token"):
        return "needs_grant", "Needs grant"
    if client.refresh_error:
        return "warn", "Access granted, but refreshing the token fails"
    if client.token_expires_at:
        left = client.token_expires_at - timezone.now()
        if left <= timedelta(0):
            if tokens.get("refresh_token"):
                return "granted", "Access granted, refreshes on next use"
            return "needs_grant", "Needs grant (token expired)"
        minutes = max(1, int(left.total_seconds() // 60))
        when = f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"
        return "granted", f"Access granted, refreshes in {when}"
    return "granted", "Access granted"

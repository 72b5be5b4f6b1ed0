"""Register a webhook at the platform: create (and remove) its subscriptions through the platform's API.

Each platform's subscription call, from its API reference (see presets.py for how deliveries
are authenticated): Picqer POST /hooks, Pipedrive POST /v1/webhooks (with http_auth_user and
http_auth_password), Timely POST /1.1/{account_id}/webhooks (with secret_token), Copper POST
/webhooks (with a custom header), ConnectWise POST /system/callbacks. All go through the
webhook's chosen HTTP Client, so authentication, retries and request logs are the usual ones.
"""
from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.utils import timezone

from . import presets

log = logging.getLogger(__name__)

LOCAL_NAMES = ("localhost", "localhost.localdomain")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def public_url_problem(base_url: str) -> str:
    """Why platforms on the internet could not reach `base_url`, or "" when it looks public.

    Judged from the address alone (no DNS look-up in a page view): a loopback or private IP,
    or a name that only resolves on a local network.
    """
    host = (urlsplit(base_url).hostname or "").lower()
    if not host:
        return "PUBLIC_BASE_URL has no host name."
    if host in LOCAL_NAMES or host.endswith(LOCAL_SUFFIXES) or "." not in host and ":" not in host:
        return f"PUBLIC_BASE_URL ({base_url}) is a local name: platforms on the internet cannot reach it."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ""
    if address.is_loopback:
        return f"PUBLIC_BASE_URL ({base_url}) is a loopback address: platforms on the internet cannot reach it."
    if address.is_private or address.is_link_local or address.is_reserved or address.is_unspecified:
        return f"PUBLIC_BASE_URL ({base_url}) is a private address: platforms on the internet cannot reach it."
    return ""


# --- subscriptions at the platform ------------------------------------------------------------


class RegistrationError(Exception):
    """The subscription could not be made or removed; the message says what to fix."""


@dataclass(frozen=True)
class Subscribe:
    """One create call: the catalog entity, its path parameters and body, and the events it covers."""

    entity: str
    path: dict
    body: dict
    events: tuple[str, ...]


def target_url(webhook) -> str:
    """Where the platform sends deliveries: PUBLIC_BASE_URL/webhooks/<identifier> (+ ?token= for ConnectWise)."""
    url = settings.PUBLIC_BASE_URL + webhook.endpoint_path()
    shared = (webhook.validators or {}).get("shared_secret") or {}
    if shared.get("location") == "query":
        url += "?" + urlencode({shared["name"]: webhook.secrets.get("shared_secret", "")})
    return url


def subscribe_calls(webhook, events: list[str], options: dict) -> list[Subscribe]:
    """The create calls for `events` on the webhook's platform (its preset), per that platform's API."""
    platform, url, name = webhook.preset, target_url(webhook), f"alumio-lite {webhook.identifier}"[:255]
    secrets = webhook.secrets or {}
    if platform == "picqer":  # one hook per event; the secret makes Picqer sign deliveries
        return [Subscribe("POST /hooks", {}, {"name": name, "event": e, "address": url, "secret": secrets["hmac"]},
                          (e,)) for e in events]
    if platform == "pipedrive":  # one webhook per action.object; Pipedrive sends the Basic credentials
        calls = []
        for event in events:
            action, _, obj = event.partition(".")
            calls.append(Subscribe("POST /v1/webhooks", {}, {
                "subscription_url": url, "event_action": action, "event_object": obj, "name": name,
                "http_auth_user": webhook.validators["basic"]["username"],
                "http_auth_password": secrets["basic_password"], "version": "2.0"}, (event,)))
        return calls
    if platform == "timely":  # one webhook with every subscription, signed with secret_token
        account = str(options.get("account_id") or "").strip()
        if not account.isdigit():
            raise RegistrationError("Enter the Timely account id (the number in app.timelyapp.com/<account id>/).")
        return [Subscribe("POST /1.1/{account_id}/webhooks", {"account_id": account}, {"webhook": {
            "url": url, "subscriptions": list(events), "active": True, "secret_token": secrets["hmac"]}},
            tuple(events))]
    if platform == "copper":  # one subscription per type.event; the secret travels in a custom header
        calls = []
        for event in events:
            kind, _, action = event.partition(".")
            calls.append(Subscribe("POST /webhooks", {}, {
                "target": url, "type": kind, "event": action,
                "headers": {presets.SECRET_HEADER: secrets["shared_secret"]}}, (event,)))
        return calls
    if platform == "connectwise":  # one callback per record type, at the Owner level (every record)
        return [Subscribe("POST /system/callbacks", {}, {
            "url": url, "objectId": 1, "type": e, "level": "Owner", "description": name[:100],
            "inactiveFlag": False}, (e,)) for e in events]
    raise RegistrationError("Choose a platform preset first: registering needs the platform's scheme.")


DELETE = {
    "picqer": ("DELETE /hooks/{idhook}", "idhook"),
    "pipedrive": ("DELETE /v1/webhooks/{id}", "id"),
    "timely": ("DELETE /1.1/{account_id}/webhooks/{id}", "id"),
    "copper": ("DELETE /webhooks/{id}", "id"),
    "connectwise": ("DELETE /system/callbacks/{id}", "id"),
}


def subscription_id(platform: str, data: Any) -> str:
    """The platform's id of a created subscription (Picqer: idhook; Pipedrive: data.id; others: id)."""
    if isinstance(data, dict) and isinstance(data.get("data"), dict) and platform == "pipedrive":
        data = data["data"]
    if isinstance(data, dict):
        for key in ("idhook", "id"):
            if data.get(key) not in (None, ""):
                return str(data[key])
    raise RegistrationError(f"{presets.PRESETS[platform].label} answered without a subscription id.")


def register(webhook, client, events: list[str], options: dict | None = None) -> dict:
    """Create the subscriptions at the platform; store and return what was made.

    Secrets the preset needs and the webhook lacks are generated first. Calls go out with no
    transaction open; a failure midway removes what was already made, so nothing is left behind.
    """
    from clients.http import ClientSession, PlatformError

    options = options or {}
    preset = presets.PRESETS.get(webhook.preset)
    if preset is None:
        raise RegistrationError("Choose a platform preset first: registering needs the platform's scheme.")
    if client.platform != webhook.preset:
        raise RegistrationError(f"“{client.name}” is not a {preset.label} HTTP Client.")
    if not events:
        raise RegistrationError("Choose at least one event.")
    unknown = [e for e in events if preset.events and e not in preset.events]
    if unknown:
        raise RegistrationError(f"Unknown {preset.label} event(s): {', '.join(unknown)}.")
    if webhook.registration.get("subscriptions"):
        raise RegistrationError("The webhook is already registered: remove it at the platform first.")
    missing = [name for name in preset.secret_names if not webhook.secrets.get(name)]
    if missing:
        webhook.secrets = {**webhook.secrets, **{name: presets.new_secret() for name in missing}}
        webhook.save(update_fields=["secrets", "updated_at"])
    calls = subscribe_calls(webhook, events, options)
    made: list[dict] = []
    with ClientSession(client) as session:
        try:
            for call in calls:
                response = session.call(call.entity, call.path, {}, call.body, step="register webhook")
                made.append({"id": subscription_id(webhook.preset, response.data), "events": list(call.events),
                             "path": call.path})
        except (PlatformError, RegistrationError, ValueError) as exc:
            _remove(session, webhook.preset, made)
            message = exc.describe() if hasattr(exc, "describe") else str(exc)
            raise RegistrationError(f"{preset.label} refused the subscription: {message}") from exc
    webhook.registration = {"subscriptions": made, "client": client.identifier,
                            "registered_at": timezone.now().isoformat(), "url": target_url(webhook).split("?")[0]}
    webhook.registration_client = client
    webhook.save(update_fields=["registration", "registration_client", "updated_at"])
    return webhook.registration


def _remove(session, platform: str, subscriptions: list[dict]) -> list[str]:
    """Delete subscriptions; return the errors (an already deleted one counts as removed)."""
    from clients.http import PlatformError

    entity, key = DELETE[platform]
    errors = []
    for sub in subscriptions:
        try:
            # sub["id"] is the platform's own answer: sent as written
            session.call(entity, {**sub.get("path", {}), key: sub["id"]}, {}, None, step="remove webhook",
                         resolve_variables=False)
        except PlatformError as exc:
            if getattr(exc, "status", None) == 404:
                continue
            errors.append(f"{sub['id']}: {exc.describe()}")
    return errors


def unregister(webhook) -> None:
    """Remove the webhook's subscriptions at the platform, then forget them."""
    from clients.http import ClientSession

    subscriptions = webhook.registration.get("subscriptions") or []
    client = webhook.registration_client
    if subscriptions and client is None:
        raise RegistrationError("The HTTP Client it was registered with is gone: remove the subscription at the "
                                "platform by hand, then save the webhook again.")
    if subscriptions:
        with ClientSession(client) as session:
            errors = _remove(session, webhook.preset, subscriptions)
        if errors:
            raise RegistrationError("Some subscriptions could not be removed: " + "; ".join(errors))
    webhook.registration = {}
    webhook.registration_client = None
    webhook.save(update_fields=["registration", "registration_client", "updated_at"])

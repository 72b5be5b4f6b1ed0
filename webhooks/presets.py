"""Per-platform presets: the validators each platform's webhooks can satisfy, and how they arrive.

Facts from each platform's API reference (copied here, the project's own words):
- Picqer: hooks are managed at /hooks; with a secret set, every delivery carries
  X-Picqer-Signature = base64(HMAC-SHA256(raw body, secret)). Body:
  {"idhook", "name", "event", "event_triggered_at", "data": {...}}.
- Pipedrive: a webhook (POST /v1/webhooks) may carry http_auth_user / http_auth_password;
  Pipedrive then sends them as HTTP Basic on every delivery. Body (v2):
  {"meta": {...}, "data": {...}, "previous": {...}}.
- Timely: POST /1.1/{account_id}/webhooks with {"webhook": {"url", "subscriptions", "active",
  "secret_token"}}; deliveries carry X-Signature, a SHA256 HMAC of the payload keyed with
  secret_token (hex is assumed: the encoding is not documented).
- Copper: POST /webhooks with {"target", "type", "event", "secret": {...}, "headers": {...}};
  the custom headers are sent with every notification, so the secret travels in one of them.
  Body: {"subscription_id", "event", "type", "ids": [...], "updated_attributes": {...}}.
- ConnectWise: callbacks (POST /system/callbacks: {"url", "objectId", "type", "level",
  "description"}) carry no secret of their own; the callback URL carries one as a query parameter.
"""
from __future__ import annotations

import secrets as random_secrets
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Preset:
    platform: str
    label: str
    validators: dict
    secret_names: tuple[str, ...]  # which of Webhook.secrets the preset generates
    items_path: str = ""  # where the entities are in a delivery, for the Incoming's Webhook subscriber
    events: tuple[str, ...] = ()  # event choices offered by "Register at the platform"
    event_hint: str = ""
    notes: str = ""
    defaults: dict = field(default_factory=dict)


SECRET_HEADER = "X-Alumio-Webhook-Secret"
SECRET_QUERY = "token"

PRESETS: dict[str, Preset] = {
    "picqer": Preset(
        "picqer", "Picqer",
        {"hmac": {"header": "X-Picqer-Signature", "algorithm": "sha256", "encoding": "base64", "prefix": ""}},
        ("hmac",), items_path="data",
        events=("orders.created", "orders.completed", "orders.status_changed", "orders.closed",
                "picklists.created", "picklists.closed", "picklists.shipments.created", "products.created",
                "products.changed", "products.free_stock_changed", "movements.moved", "comments.created"),
        notes="Picqer signs every delivery: X-Picqer-Signature is base64(HMAC-SHA256(body, secret)).",
    ),
    "pipedrive": Preset(
        "pipedrive", "Pipedrive", {"basic": {"username": "alumio"}}, ("basic_password",), items_path="data",
        events=tuple(f"{action}.{obj}" for obj in ("deal", "person", "organization", "activity", "product", "note",
                                                    "lead", "stage", "pipeline", "user", "*")
                     for action in ("create", "change", "delete", "*")),
        event_hint="action.object, e.g. create.deal or *.*",
        notes="Pipedrive sends the subscription's http_auth_user / http_auth_password as HTTP Basic.",
    ),
    "timely": Preset(
        "timely", "Timely",
        {"hmac": {"header": "X-Signature", "algorithm": "sha256", "encoding": "hex", "prefix": ""}},
        ("hmac",),
        events=tuple(f"{obj}:{action}" for obj in ("forecasts", "hours", "labels", "projects")
                     for action in ("created", "updated", "deleted")) + ("*",),
        notes="Timely signs deliveries with the subscription's secret_token: X-Signature = HMAC-SHA256(body).",
    ),
    "copper": Preset(
        "copper", "Copper", {"shared_secret": {"location": "header", "name": SECRET_HEADER}}, ("shared_secret",),
        events=tuple(f"{kind}.{event}" for kind in ("lead", "person", "company", "opportunity", "project", "task")
                     for event in ("new", "update", "delete")),
        event_hint="type.event, e.g. company.update",
        notes=f"Copper sends the subscription's custom headers with every notification; {SECRET_HEADER} "
              "carries the secret.",
    ),
    "connectwise": Preset(
        "connectwise", "ConnectWise",
        {"shared_secret": {"location": "query", "name": SECRET_QUERY}}, ("shared_secret",),
        events=("Ticket", "Company", "Contact", "Opportunity", "Activity", "Agreement", "Configuration",
                "Invoice", "Member", "Project", "PurchaseOrder", "Schedule", "Time"),
        event_hint="callback type; the level is Owner (every record of that type)",
        notes="ConnectWise callbacks carry no secret of their own: the callback URL carries it as ?token=.",
    ),
}


def new_secret() -> str:
    return random_secrets.token_urlsafe(32)


def apply(platform: str) -> tuple[dict, dict]:
    """Validators and freshly generated secrets for a platform's preset."""
    preset = PRESETS[platform]
    validators = {key: dict(value) for key, value in preset.validators.items()}
    if "basic" in validators:
        validators["basic"]["username"] = f"alumio-{random_secrets.token_hex(4)}"
    return validators, {name: new_secret() for name in preset.secret_names}

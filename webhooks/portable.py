"""Webhooks in export files (connections/portable.py): settings and validators, never a secret.

An imported webhook keeps the secrets it already has here; a new one has none, and a validator
without its secret refuses every request until its secret is entered (or "Register at the
platform" generates it). The subscription at the platform is not exported either: it belongs
to the installation that made it.
"""
from __future__ import annotations

from typing import Any

from django.http import QueryDict

from connections.models import Incoming

from .forms import WebhookForm
from .models import Webhook
from .validators import DEFAULT_MAX_BODY_BYTES


def export_webhook(webhook: Webhook) -> dict:
    return {
        "identifier": webhook.identifier,
        "name": webhook.name,
        "description": webhook.description,
        "disabled": webhook.disabled,
        "log_requests": webhook.log_requests,
        "incomings": sorted(webhook.incomings.values_list("identifier", flat=True)),
        "preset": webhook.preset,
        "validators": webhook.validators or {},  # the secrets are in Webhook.secrets, not here
    }


def _form_data(entry: dict, incomings: list[Incoming]) -> QueryDict:
    data = QueryDict(mutable=True)
    for name in ("name", "identifier", "description", "preset"):
        data[name] = str(entry.get(name) or "")
    for flag in ("disabled", "log_requests"):
        if entry.get(flag):
            data[flag] = "on"
    data.setlist("incomings", [str(i.pk) for i in incomings])
    config = entry.get("validators") if isinstance(entry.get("validators"), dict) else {}
    data["max_body_bytes"] = str(config.get("max_body_bytes") or DEFAULT_MAX_BODY_BYTES)
    data["ip_allow_list"] = "\n".join(str(x) for x in config.get("ip_allow_list") or [])
    sections = (("shared_secret", ("location", "name")), ("hmac", ("header", "algorithm", "encoding", "prefix")),
                ("basic", ("username",)))
    for prefix, keys in sections:
        if isinstance(config.get(prefix), dict):
            data[f"{prefix}_enabled"] = "on"
            for key in keys:
                data[f"{prefix}_{key}"] = str(config[prefix].get(key) or "")
    return data


def plan(entry: Any, incomings_in_file: set[str]) -> tuple[str, str, list[str], list[str], Any]:
    """(identifier, action, errors, changed fields, apply function) for one webhook of a file."""
    if not isinstance(entry, dict):
        return "?", "error", ["each webhook must be an object"], [], None
    identifier = str(entry.get("identifier") or "").strip()
    if not identifier:
        return "?", "error", ["“identifier” is missing"], [], None
    names = entry.get("incomings") if isinstance(entry.get("incomings"), list) else []
    found = {i.identifier: i for i in Incoming.objects.filter(identifier__in=[str(n) for n in names])}
    errors = [f"unknown Incoming configuration “{n}”" for n in names if n not in found and n not in incomings_in_file]
    if errors:
        return identifier, "error", errors, [], None
    existing = Webhook.objects.filter(identifier=identifier).first()
    before = export_webhook(existing) if existing else None
    # Incomings created by this same import don't exist yet: the form checks the others, apply() links all.
    form = WebhookForm(data=_form_data(entry, list(found.values())), instance=existing)
    form.fields["incomings"].required = False
    form.importing = True  # no secret travels, none is invented: the consultant enters it
    if not form.is_valid():
        return identifier, "error", [f"{n}: {m}" if n != "__all__" else m for n, ms in form.errors.items()
                                     for m in ms], [], None
    after = {**(before or {}), **{k: entry[k] for k in (before or {}) if k in entry},
             "validators": form.validator_config()}  # as saved: defaults filled in
    changed = [k for k in (before or {}) if before[k] != after[k]]
    action = "create" if existing is None else "update" if changed else "unchanged"

    def apply() -> None:
        webhook = form.save()
        webhook.incomings.set(Incoming.objects.filter(identifier__in=[str(n) for n in names]))

    return identifier, action, [], changed, apply

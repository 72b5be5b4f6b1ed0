"""Connections -> Webhooks: the webhook form with its request validators and platform presets."""
from __future__ import annotations

import ipaddress
from typing import Any

from django import forms

from connections.forms import derived_identifier
from connections.models import Incoming

from . import presets
from .models import Webhook
from .parsers import WEBHOOK
from .validators import ALGORITHMS, DEFAULT_MAX_BODY_BYTES, ENCODINGS

SECRET_FIELDS = {"shared_secret": "shared_secret", "hmac_secret": "hmac", "basic_password": "basic_password"}


class SecretInput(forms.PasswordInput):
    """Never renders a stored value; blank on save keeps the stored one."""

    def __init__(self) -> None:
        super().__init__(render_value=False, attrs={"autocomplete": "new-password"})


class WebhookForm(forms.ModelForm):
    # An import (webhooks/portable.py) brings no secrets: none is asked for, none is generated.
    importing = False

    preset = forms.ChoiceField(
        required=False, label="Preset",
        choices=[("", "No preset")] + [(p.platform, p.label) for p in presets.PRESETS.values()],
        help_text="Fills in the validators with the platform's documented scheme; a secret left empty is "
                  "generated (and sent to the platform by “Register at the platform”).")
    incomings = forms.ModelMultipleChoiceField(
        queryset=Incoming.objects.filter(platform=WEBHOOK), label="Incoming configurations",
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text="Where the data goes: Incoming configurations whose Subscriber is “Webhook subscriber”.")

    shared_secret_enabled = forms.BooleanField(required=False, label="Shared secret")
    shared_secret_location = forms.ChoiceField(choices=[("header", "Header"), ("query", "Query parameter")],
                                               required=False, label="Sent in")
    shared_secret_name = forms.CharField(required=False, label="Header or parameter name", max_length=100)
    shared_secret = forms.CharField(required=False, label="Secret", widget=SecretInput(), max_length=500)

    hmac_enabled = forms.BooleanField(required=False, label="HMAC signature")
    hmac_header = forms.CharField(required=False, label="Signature header", max_length=100)
    hmac_algorithm = forms.ChoiceField(choices=[(a, a.upper()) for a in ALGORITHMS], required=False,
                                       label="Algorithm", initial="sha256")
    hmac_encoding = forms.ChoiceField(choices=[(e, e) for e in ENCODINGS], required=False, label="Encoding",
                                      initial="hex")
    hmac_prefix = forms.CharField(required=False, label="Prefix", max_length=40, strip=False,
                                  help_text="Text before the digest, e.g. sha256=")
    hmac_secret = forms.CharField(required=False, label="Secret", widget=SecretInput(), max_length=500)

    basic_enabled = forms.BooleanField(required=False, label="HTTP Basic")
    basic_username = forms.CharField(required=False, label="User name", max_length=200)
    basic_password = forms.CharField(required=False, label="Password", widget=SecretInput(), max_length=500)

    ip_allow_list = forms.CharField(required=False, label="IP allow-list", widget=forms.Textarea(attrs={"rows": 3}),
                                    help_text="One address or CIDR range per line; empty accepts any address.")
    max_body_bytes = forms.IntegerField(min_value=1, max_value=50_000_000, initial=DEFAULT_MAX_BODY_BYTES,
                                        label="Maximum body size (bytes)")

    class Meta:
        model = Webhook
        fields = ["name", "identifier", "description", "disabled", "incomings", "log_requests"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["identifier"].required = False
        self.fields["identifier"].help_text = ("Derived from the name when left empty; the endpoint is "
                                               "/webhooks/<identifier>.")
        self.fields["description"].widget.attrs["rows"] = 2
        config = self.instance.validators or {}
        stored = self.instance.secrets or {}
        initial = {"preset": self.instance.preset, "max_body_bytes": config.get("max_body_bytes")
                   or DEFAULT_MAX_BODY_BYTES, "ip_allow_list": "\n".join(config.get("ip_allow_list") or [])}
        if config.get("shared_secret"):
            s = config["shared_secret"]
            initial.update(shared_secret_enabled=True, shared_secret_location=s.get("location", "header"),
                           shared_secret_name=s.get("name", ""))
        if config.get("hmac"):
            h = config["hmac"]
            initial.update(hmac_enabled=True, hmac_header=h.get("header", ""), hmac_algorithm=h.get("algorithm"),
                           hmac_encoding=h.get("encoding"), hmac_prefix=h.get("prefix", ""))
        if config.get("basic"):
            initial.update(basic_enabled=True, basic_username=config["basic"].get("username", ""))
        for key, value in initial.items():
            self.initial.setdefault(key, value)
        # Which secrets are stored, so the page can say "stored; leave empty to keep" without showing them.
        self.stored_secrets = {name for name, key in SECRET_FIELDS.items() if stored.get(key)}

    def clean_identifier(self) -> str:
        typed = (self.cleaned_data.get("identifier") or "").strip()
        if typed:
            return typed
        return derived_identifier(self.cleaned_data.get("name") or "", Webhook, "webhook",
                                  exclude_pk=self.instance.pk)

    def clean_ip_allow_list(self) -> list[str]:
        entries = [line.strip() for line in (self.cleaned_data.get("ip_allow_list") or "").splitlines() if line.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise forms.ValidationError(f"“{entry}” is not an IP address or CIDR range "
                                            "(e.g. 203.0.113.7 or 203.0.113.0/24).") from None
        return entries

    def clean(self) -> dict:
        data = super().clean()
        preset = data.get("preset") or ""
        stored = self.instance.secrets or {}
        self.new_secrets: dict[str, str] = {}
        for field, key in SECRET_FIELDS.items():
            if data.get(field):
                self.new_secrets[key] = data[field]
        # Secrets that need not be typed: the preset generates them, or an import leaves them to enter later
        # (a validator without its secret refuses every request until then).
        generate = ("shared_secret", "hmac", "basic_password") if self.importing else \
            presets.PRESETS[preset].secret_names if preset else ()
        if data.get("shared_secret_enabled"):
            if not data.get("shared_secret_name"):
                self.add_error("shared_secret_name", "Name the header or query parameter that carries the secret.")
            if not (data.get("shared_secret") or stored.get("shared_secret") or "shared_secret" in generate):
                self.add_error("shared_secret", "Enter the shared secret.")
        if data.get("hmac_enabled"):
            if not data.get("hmac_header"):
                self.add_error("hmac_header", "Name the header that carries the signature.")
            if not (data.get("hmac_secret") or stored.get("hmac") or "hmac" in generate):
                self.add_error("hmac_secret", "Enter the secret the platform signs with.")
        if data.get("basic_enabled"):
            if not data.get("basic_username"):
                self.add_error("basic_username", "Enter the user name the platform sends.")
            if not (data.get("basic_password") or stored.get("basic_password") or "basic_password" in generate):
                self.add_error("basic_password", "Enter the password the platform sends.")
        return data

    def validator_config(self) -> dict:
        data = self.cleaned_data
        config: dict[str, Any] = {"max_body_bytes": data["max_body_bytes"]}
        if data.get("ip_allow_list"):
            config["ip_allow_list"] = data["ip_allow_list"]
        if data.get("shared_secret_enabled"):
            config["shared_secret"] = {"location": data.get("shared_secret_location") or "header",
                                       "name": data["shared_secret_name"]}
        if data.get("hmac_enabled"):
            config["hmac"] = {"header": data["hmac_header"], "algorithm": data.get("hmac_algorithm") or "sha256",
                              "encoding": data.get("hmac_encoding") or "hex", "prefix": data.get("hmac_prefix") or ""}
        if data.get("basic_enabled"):
            config["basic"] = {"username": data["basic_username"]}
        return config

    def save(self, commit: bool = True) -> Webhook:
        webhook = super().save(commit=False)
        webhook.validators = self.validator_config()
        webhook.preset = self.cleaned_data.get("preset") or ""
        secrets = {**(webhook.secrets or {}), **self.new_secrets}
        if webhook.preset and not self.importing:
            for name in presets.PRESETS[webhook.preset].secret_names:
                secrets.setdefault(name, presets.new_secret())
        # Secrets of validators that are off are dropped: they would only be one more thing to leak.
        wanted = {"shared_secret": "shared_secret" in webhook.validators, "hmac": "hmac" in webhook.validators,
                  "basic_password": "basic" in webhook.validators}
        webhook.secrets = {k: v for k, v in secrets.items() if wanted.get(k)}
        if commit:
            webhook.save()
            self.save_m2m()
        return webhook

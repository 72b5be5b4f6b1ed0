"""Forms for HTTP Clients, built from the platform registry.

Step 1 picks a platform, step 2 shows that platform's fields (clients.platforms.base.Field),
step 3 names the client. The edit page reuses the step 2 and step 3 forms side by side.

Secret fields are write-only: they always render empty, a blank input keeps the value that
is already stored (on the client, or stashed encrypted in the session by the wizard), and
the page only ever says "set" or "not set".
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from variables import resolve as variables

from . import outbound
from .auth import AuthError, check_header_value
from .identifiers import identifier_error, unique_identifier
from .models import HttpClient
from .platforms.base import Field, Platform
from .platforms.registry import PLATFORMS

_url_validator = URLValidator(schemes=["http", "https"])


class PlatformChoiceForm(forms.Form):
    """Step 1: "Picqer HTTP Client", "Timely HTTP Client", ..."""

    platform = forms.ChoiceField(label="Platform", widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = [(p.slug, p.client_label) for p in PLATFORMS.values()]


def is_active(field: Field, values: dict) -> bool:
    """Whether `field` applies given the other values (Copper's Authentication type switch)."""
    if not field.show_if:
        return True
    return all(values.get(name) in allowed for name, allowed in field.show_if.items())


def check_url(value: str) -> str:
    """A Base URI / token URL: absolute http(s) with a host, no placeholder left in it.

    Returned exactly as typed: a trailing slash can matter to the server (django-oauth-toolkit's
    /o/token/ does), and requests to a Base URI join paths without doubling slashes anyway.
    ${NAME} environment variables are allowed; the URL they make today is what is checked.
    """
    if variables.names_in(value):
        try:
            check_url(variables.resolve(value))
        except variables.UnknownVariable as exc:
            raise ValidationError(variables.sentence(exc)) from None
        except ValidationError as exc:
            raise ValidationError(f"With today's environment variables: {' '.join(exc.messages)}") from None
        return value
    if "{" in value or "}" in value:
        start, end = value.find("{"), value.find("}")
        placeholder = value[start : end + 1] if 0 <= start < end else "{...}"
        raise ValidationError(f"Replace {placeholder} with your own value.")
    if any(ch.isspace() for ch in value):
        raise ValidationError("A URL cannot contain spaces or line breaks.")
    try:
        _url_validator(value)
    except ValidationError:
        raise ValidationError("Enter a full URL starting with https://, e.g. https://api.example.com/v1.") from None
    problem = outbound.url_problem(value)
    if problem:
        raise ValidationError(problem)
    return value


def credential_hosts(platform: Platform, values: dict) -> set[tuple]:
    """Where the client sends its credentials: (field, scheme, host, port) of every URL field (Base URI, token URL)."""
    hosts = set()
    for spec in platform.fields:
        if spec.kind == "url":
            url = values.get(spec.name) or spec.default
            if url:
                parts = urlsplit(url)
                try:
                    hosts.add((spec.name, parts.scheme, (parts.hostname or "").lower(), parts.port))
                except ValueError:  # a port that is not a number; the field's own check reports it
                    hosts.add((spec.name, parts.scheme, url, None))
    return hosts


def rate_limit_field(platform: Platform) -> forms.IntegerField:
    """The shared rate budget's "Requests per minute": blank = the platform's own figure, 0 = none."""
    rule = platform.rate_limit
    if rule.per_minute:
        default = f"Empty: {rule.source or platform.label}, refined by what {platform.label} says in its answers."
    else:
        source = rule.source or f"{platform.label} documents no limit"
        default = f"Empty: {source}, so calls are not paced, but a 429 holds every worker back as long as it asks."
    return forms.IntegerField(
        label="Requests per minute", required=False, min_value=0, max_value=1_000_000,
        widget=forms.NumberInput(attrs={"placeholder": f"{rule.per_minute:g}" if rule.per_minute else "no limit"}),
        help_text="Every worker shares this budget and waits for its turn instead of provoking 429s. "
                  f"{default} 0: no shared budget.",
    )


@dataclass
class FieldRow:
    """What the template needs to draw one platform field."""

    bound: forms.BoundField
    spec: Field
    secret_state: str = ""  # "", "set", "kept from your last input", "not set"
    show_if: str = ""  # JSON for the page's small script, e.g. {"auth_type": ["oauth2"]}


class ClientSettingsForm(forms.Form):
    """Step 2: the platform's own fields plus "Enable request logging".

    `stored_secrets` are the secret values already known (from the saved client or from the
    wizard's encrypted stash); `stash_secrets` says which of them came from the stash, so
    the page can say "kept from your last input" instead of "set".
    """

    log_requests = forms.BooleanField(label="Enable request logging", required=False,
                                      help_text="Keep a log of every request and response (secrets redacted).")

    def __init__(self, *args, platform: Platform, stored_secrets: dict | None = None,
                 stash_secrets: frozenset[str] = frozenset(), saved_settings: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.platform = platform
        # The saved client's settings, on the edit page: a secret stored for one host is not sent to another.
        self.saved_settings = saved_settings
        self.hosts_changed = False
        self.stored_secrets = {k: v for k, v in (stored_secrets or {}).items() if v}
        self.stash_secrets = stash_secrets
        log_field = self.fields.pop("log_requests")
        for spec in platform.fields:
            self.fields[spec.name] = self._make_field(spec)
        self.fields["log_requests"] = log_field
        self.fields["rate_limit_per_minute"] = rate_limit_field(platform)

    def _make_field(self, spec: Field) -> forms.Field:
        attrs = {"autocomplete": "off", "spellcheck": "false"}
        if spec.kind == "choice":
            return forms.ChoiceField(label=spec.label, choices=spec.choices, required=False,
                                     help_text=spec.help_text, initial=spec.default or None)
        if spec.secret:
            # render_value=False: a stored secret never travels back to the browser.
            return forms.CharField(label=spec.label, required=False, help_text=spec.help_text,
                                   widget=forms.PasswordInput(attrs={**attrs, "autocomplete": "new-password"},
                                                              render_value=False))
        widget = forms.URLInput(attrs=attrs) if spec.kind == "url" else forms.TextInput(attrs=attrs)
        return forms.CharField(label=spec.label, required=False, help_text=spec.help_text,
                               initial=spec.default or None, widget=widget, max_length=2000)

    # -- validation -------------------------------------------------------------------
    def clean(self) -> dict:
        data = super().clean()
        values = {spec.name: data.get(spec.name) or "" for spec in self.platform.fields}
        if self.saved_settings is not None:
            self.hosts_changed = credential_hosts(self.platform, values) != credential_hosts(
                self.platform, self.saved_settings)
        for spec in self.platform.fields:
            if spec.name in self.errors or not is_active(spec, values):
                continue
            value = values[spec.name]
            if spec.secret and not value:
                if spec.name in self.stored_secrets and self.hosts_changed and spec.name not in self.stash_secrets:
                    # Secrets follow their host: one saved for the old address is never sent to a new one.
                    self.add_error(spec.name, f"The address changed: type {spec.label} again for the new host "
                                              "(the stored one is not sent there).")
                    continue
                if spec.name in self.stored_secrets:
                    continue  # blank keeps the stored value
            if not value:
                if spec.required:
                    self.add_error(spec.name, f"{spec.label} is required.")
                continue
            unknown = variables.missing(value)
            if unknown:
                self.add_error(spec.name, variables.sentence(variables.UnknownVariable(unknown)))
                continue
            try:
                if spec.kind == "url":
                    data[spec.name] = check_url(value)
                    made = variables.resolve(value)  # the URL ${NAME}s make today (all known: checked above)
                    if spec.shape_error(made):  # e.g. Pipedrive's Base URI without /api
                        raise ValidationError(spec.shape_error(made))
                elif spec.kind == "choice" and value not in dict(spec.choices):
                    raise ValidationError("Pick one of the listed options.")
                if spec.header_bound:
                    check_header_value(spec.label, value)
            except ValidationError as exc:
                self.add_error(spec.name, exc)
            except AuthError as exc:
                # The message names the field and the position, never the value.
                self.add_error(spec.name, str(exc))
        return data

    # -- results ----------------------------------------------------------------------
    def settings_values(self) -> dict[str, str]:
        """Non-secret values by field name (inactive branches kept, so switching back restores them)."""
        return {s.name: self.cleaned_data.get(s.name) or "" for s in self.platform.fields if not s.secret}

    def secret_values(self) -> dict[str, str]:
        """Secret values: the ones typed now, the stored ones where the input was blank (and the host stayed)."""
        out = dict(self.stored_secrets)
        if self.hosts_changed:  # stored for the old host: dropped, also for fields not shown now
            out = {k: v for k, v in out.items() if k in self.stash_secrets}
        for spec in self.platform.secret_fields:
            typed = self.cleaned_data.get(spec.name) if hasattr(self, "cleaned_data") else None
            if typed:
                out[spec.name] = typed
        return {k: v for k, v in out.items() if k in {s.name for s in self.platform.secret_fields}}

    def valid_typed_secrets(self) -> dict[str, str]:
        """Secrets typed in this submission that passed their own checks (stashed on errors)."""
        out = {}
        for spec in self.platform.secret_fields:
            value = (self.data.get(self.add_prefix(spec.name)) or "").strip()
            if value and spec.name not in self.errors:
                out[spec.name] = value
        return out

    def rows(self) -> list[FieldRow]:
        rows = []
        for spec in self.platform.fields:
            state = ""
            if spec.secret:
                if spec.name in self.stash_secrets:
                    state = "kept from your last input"
                elif spec.name in self.stored_secrets:
                    state = "set"
                else:
                    state = "not set"
            show_if = json.dumps({k: list(v) for k, v in spec.show_if.items()}) if spec.show_if else ""
            rows.append(FieldRow(self[spec.name], spec, state, show_if))
        return rows


class ClientNameForm(forms.Form):
    """Step 3: the name, and the identifier derived from it (editable, unique)."""

    name = forms.CharField(label="Name", max_length=200)
    identifier = forms.CharField(
        label="Identifier", max_length=200, required=False,
        help_text="Used in URLs and exports. Leave empty to derive it from the name.",
    )

    def __init__(self, *args, exclude_pk: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.exclude_pk = exclude_pk

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Name is required.")
        return name

    def clean(self) -> dict:
        data = super().clean()
        if "name" not in data:
            return data
        identifier = (data.get("identifier") or "").strip()
        if not identifier:
            data["identifier"] = unique_identifier(data["name"], HttpClient, exclude_pk=self.exclude_pk)
            return data
        problem = identifier_error(identifier, HttpClient, exclude_pk=self.exclude_pk)
        if problem:
            self.add_error("identifier", problem)
        else:
            data["identifier"] = identifier
        return data

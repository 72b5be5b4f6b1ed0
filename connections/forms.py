"""Forms for Incoming (subscriber) and Outgoing (publisher) configurations.

Every check a user can trip over is a field error that keeps what was typed: invalid JSON
(with line and column), request parameters of the wrong shape, a missing or unknown path
parameter, an entity of another platform or method, an HTTP Client of another platform or
one that still needs a grant. Route forms are in route_forms.py, the catalog helpers (entities a
Subscriber or Publisher offers, the entity search) in catalog.py, the JSON and transformer-list
fields in form_fields.py.
"""
from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import slugify

from clients.identifiers import unique_identifier
from clients.models import HttpClient
from clients.platforms.base import Entity, Platform
from clients.platforms.registry import PLATFORMS
from variables import resolve as variables
from webhooks.parsers import FORMATS, WEBHOOK, WEBHOOK_LABEL, parser_settings, settings_errors

from .catalog import (
    PUBLISHER,
    SUBSCRIBER,
    find_entity,
    group_entities,
    method_choices,
    needs_method,
    offers,
    platform_or_none,
    search_entities,
)
from .form_fields import JSONObjectField, OrderedTransformersField
from .json_policy import kind_of
from .models import Incoming, IncomingTransformer, Outgoing, OutgoingTransformer, Transformer


def derived_identifier(name: str, model, fallback: str, exclude_pk: int | None = None) -> str:
    """A unique identifier made from `name` (-2, -3, ... on a clash; `fallback` when nothing is left).

    No reserved words: configuration and transformer URLs address objects by id.
    """
    return unique_identifier(slugify(name) or fallback, model, exclude_pk=exclude_pk, reserved=frozenset())


# --- the forms ------------------------------------------------------------------------------


class ConfigurationForm(forms.ModelForm):
    """What Incoming and Outgoing share: naming, platform, method, entity, HTTP Client."""

    check_variables = True  # ${NAME}s must be defined (Settings -> Environment variables) to save

    role: str = SUBSCRIBER
    transformer_field: str = "transformers"
    # An import may bring configurations whose client is granted afterwards; pages always check.
    check_grant: bool = True

    platform = forms.ChoiceField(choices=())
    # Checked in clean() against the platform's methods, for a message that names the platform.
    method = forms.CharField(max_length=10, required=False, widget=forms.Select)
    entity = forms.CharField(max_length=300, required=False)
    client = forms.ModelChoiceField(queryset=HttpClient.objects.all(), required=False, label="HTTP Client")

    class Meta:
        fields = ["name", "identifier", "description", "disabled", "platform", "method", "entity", "client"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["identifier"].required = False
        self.fields["identifier"].help_text = "Derived from the name when left empty; unique."
        self.fields["description"].widget.attrs["rows"] = 2
        label = "Subscriber" if self.role == SUBSCRIBER else "Publisher"
        self.fields["platform"].label = label
        self.fields["platform"].choices = [("", f"Choose a {label}")] + [
            (p.slug, p.subscriber_label if self.role == SUBSCRIBER else p.publisher_label) for p in PLATFORMS.values()
        ]
        if self.role == SUBSCRIBER:  # entities pushed by webhooks instead of fetched
            self.fields["platform"].choices.append((WEBHOOK, WEBHOOK_LABEL))
        self.fields["entity"].label = "Entity"
        self.chosen_platform = platform_or_none(self._current("platform"))
        methods = method_choices(self.chosen_platform, self.role) if self.chosen_platform else []
        self.fields["method"].widget.choices = [("", "Choose a Method")] + [(m, m) for m in methods]
        self.fields["platform"].error_messages["required"] = f"Choose a {label}."
        if self.chosen_platform is not None:
            # Only this platform's clients are offered; clean() still rejects a forged one clearly.
            clients = HttpClient.objects.filter(platform=self.chosen_platform.slug).only("id", "name", "auth_state")
            self.fields["client"].widget.choices = [("", f"Choose a {self.chosen_platform.client_label}")] + [
                (c.pk, c.name + (" (needs grant)" if c.auth_state == HttpClient.AuthState.NEEDS_GRANT else ""))
                for c in clients
            ]
        else:
            self.fields["client"].widget.choices = [("", "Choose a Subscriber or Publisher first")]
        if self.instance.pk and self.transformer_field in self.fields:
            self.initial.setdefault(self.transformer_field, self.attached_transformers())

    # The value a field has right now: typed (bound), else initial, else the saved instance.
    def _current(self, name: str) -> str:
        if self.is_bound:
            return (self.data.get(self.add_prefix(name)) or "").strip()
        value = self.initial.get(name)
        if value is None:
            value = getattr(self.instance, name, "") or ""
        return str(value)

    @property
    def needs_method(self) -> bool:
        return needs_method(self.chosen_platform, self.role)

    @property
    def current_method(self) -> str:
        return self._current("method") if self.needs_method else ""

    @property
    def current_entity(self) -> Entity | None:
        key = self._current("entity")
        if self.chosen_platform is None or not key:
            return None
        return find_entity(self.chosen_platform, key)

    def entity_search_results(self, text: str = "") -> tuple[list[tuple[str, list[Entity]]], int, int]:
        """Grouped options for the entity dropdown: the current entity plus the first matches."""
        if self.chosen_platform is None or (self.needs_method and not self.current_method):
            return [], 0, 0
        found, total = search_entities(self.chosen_platform, text, self.role, self.current_method or None)
        current = self.current_entity
        if current is not None and current not in found:
            found = [current] + found
        return group_entities(found), len(found), total

    def transformer_rows(self) -> list[str]:
        """Selected transformer ids in order, for rendering one <select> per row."""
        field = self.fields[self.transformer_field]
        if self.is_bound:
            value = self.data.getlist(self.transformer_field) if hasattr(self.data, "getlist") else []
        else:
            value = self.initial.get(self.transformer_field, [])
        return [v for v in field.prepare_value(value) if v]

    def all_transformers(self) -> list[Transformer]:
        return list(Transformer.objects.only("id", "name"))

    def attached_transformers(self) -> list[Transformer]:  # pragma: no cover - overridden
        return []

    # --- cleaning ---

    def clean_identifier(self) -> str:
        typed = (self.cleaned_data.get("identifier") or "").strip()
        if typed:
            return typed
        name = self.cleaned_data.get("name") or ""
        return derived_identifier(name, self._meta.model, "configuration", exclude_pk=self.instance.pk)

    def clean_platform(self) -> str:
        slug = self.cleaned_data.get("platform") or ""
        if not slug:
            raise forms.ValidationError(f"Choose a {self.fields['platform'].label}.", code="required")
        return slug

    def clean(self) -> dict:
        data = super().clean()
        platform = platform_or_none(data.get("platform"))
        if platform is None:
            return data
        method = (data.get("method") or "").upper()
        if needs_method(platform, self.role):
            if not method:
                self.add_error("method", "Choose a Method.")
            elif method not in method_choices(platform, self.role):
                role_label = platform.subscriber_label if self.role == SUBSCRIBER else platform.publisher_label
                self.add_error("method", f"The {role_label} has no {method} entities; choose one of the list.")
        entity = self._clean_entity(platform, data.get("entity") or "", method)
        if entity is not None:
            data["entity"] = entity.key
            data["method"] = entity.method
            self.entity_obj = entity
        self._clean_client(platform, data.get("client"))
        if self.check_variables:  # an import only reports unknown ${NAME}s (ImportReport.missing_variables)
            for name in ("request_parameters", "query", "payload"):
                unknown = variables.missing(data.get(name)) if data.get(name) else set()
                if unknown:
                    self.add_error(name, variables.sentence(variables.UnknownVariable(unknown)))
        return data

    def _clean_entity(self, platform: Platform, key: str, method: str) -> Entity | None:
        if not key:
            self.add_error("entity", "Choose an entity.")
            return None
        entity = find_entity(platform, key)
        if entity is None:
            self.add_error("entity", f"“{key}” is not an entity of {platform.label}.")
            return None
        role_label = platform.subscriber_label if self.role == SUBSCRIBER else platform.publisher_label
        if not offers(entity, self.role):
            self.add_error("entity", f"“{entity.name}” is not offered by the {role_label}.")
            return None
        if needs_method(platform, self.role) and method and entity.method != method:
            self.add_error("entity", f"“{entity.name}” is a {entity.method} entity; the Method is {method}.")
            return None
        return entity

    def _clean_client(self, platform: Platform, client: HttpClient | None) -> None:
        if client is None:
            self.add_error("client", f"Choose a {platform.client_label}.")
        elif client.platform != platform.slug:
            other = platform_or_none(client.platform)
            other_label = other.client_label if other else f"{client.platform} HTTP Client"
            self.add_error("client", f"“{client.name}” is a {other_label}; choose a {platform.client_label}.")
        elif self.check_grant and client.auth_state == HttpClient.AuthState.NEEDS_GRANT:
            self.add_error(
                "client",
                f"“{client.name}” needs a grant: open it and click Grant access to {platform.label} first.",
            )

    def save(self, commit: bool = True):
        obj = super().save(commit=False)
        obj.platform = self.cleaned_data["platform"]
        obj.method = self.cleaned_data.get("method") or ""
        obj.entity = self.cleaned_data["entity"]
        if commit:
            obj.save()
            self.save_transformers(obj)
        return obj

    def save_transformers(self, obj) -> None:  # pragma: no cover - overridden
        pass


class IncomingForm(ConfigurationForm):
    """Connections -> Incoming: Subscriber, (Method), Entity, Request Parameters, HTTP Client, pagination."""

    role = SUBSCRIBER
    transformer_field = "input_transformers"

    request_parameters = JSONObjectField(
        label="Request Parameters",
        help_text='A JSON object with the keys "path" (the entity\'s path parameters) and "query".',
    )
    input_transformers = OrderedTransformersField(label="Input transformers")
    # Webhook subscriber: how a webhook's body becomes entities (Incoming.parser).
    parser_format = forms.ChoiceField(choices=list(FORMATS.items()), required=False, label="Body format")
    parser_path = forms.CharField(required=False, max_length=200, label="Path to the entities",
                                  help_text="Dotted keys, e.g. data or events.*; empty: the whole body "
                                            "(each item when it is a list).")
    parser_delimiter = forms.CharField(required=False, max_length=1, strip=False, label="CSV delimiter")

    class Meta(ConfigurationForm.Meta):
        model = Incoming
        fields = ConfigurationForm.Meta.fields + ["request_parameters", "pagination"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parser = parser_settings(self.instance.parser)
        for key in ("format", "path", "delimiter"):
            self.initial.setdefault(f"parser_{key}", parser[key])

    @property
    def webhook_subscriber(self) -> bool:
        return self._current("platform") == WEBHOOK

    def attached_transformers(self) -> list[Transformer]:
        return self.instance.transformers_in_order("input")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("platform") == WEBHOOK:
            data.update(method="", entity="", client=None, pagination=False)
            self.parser = {"format": data.get("parser_format") or "json",
                           "path": (data.get("parser_path") or "").strip(),
                           "delimiter": data.get("parser_delimiter") or ","}
            for name, message in settings_errors(self.parser).items():
                self.add_error(name, message)
        entity = getattr(self, "entity_obj", None)
        params = data.get("request_parameters")
        if params is None:  # invalid JSON, already reported
            return data
        errors = request_parameter_errors(params, entity)
        for message in errors:
            self.add_error("request_parameters", message)
        return data

    def save(self, commit: bool = True):
        if self.cleaned_data.get("platform") == WEBHOOK:
            self.instance.parser = self.parser
        return super().save(commit)

    def save_transformers(self, obj: Incoming) -> None:
        IncomingTransformer.objects.filter(incoming=obj, stage="input").delete()
        IncomingTransformer.objects.bulk_create(
            IncomingTransformer(incoming=obj, transformer=t, stage="input", position=i)
            for i, t in enumerate(self.cleaned_data.get("input_transformers") or [])
        )


def request_parameter_errors(params: dict, entity: Entity | None) -> list[str]:
    """What is wrong with `{"path": {...}, "query": {...}}` for `entity`, one sentence each."""
    errors = []
    unknown_keys = sorted(set(params) - {"path", "query"})
    if unknown_keys:
        names = ", ".join(f"“{k}”" for k in unknown_keys)
        errors.append(f"Unknown key {names}: Request Parameters take only “path” and “query”.")
    for key in ("path", "query"):
        if key in params and not isinstance(params[key], dict):
            errors.append(f"“{key}” must be a JSON object ({{...}}), not {kind_of(params[key])}.")
    if errors or entity is None:
        return errors
    path = params.get("path") or {}
    for name in entity.path_params:
        if path.get(name) in (None, ""):
            errors.append(f"Missing path parameter “{name}” (required by {entity.name}).")
    takes = ", ".join(entity.path_params) or "none"
    for name in path:
        if name not in entity.path_params:
            errors.append(f"Unknown path parameter “{name}”; {entity.name} takes: {takes}.")
    return errors


class OutgoingForm(ConfigurationForm):
    """Connections -> Outgoing: Publisher, Method, Entity, query, payload, transformers, HTTP Client."""

    role = PUBLISHER
    transformer_field = "transformers"

    query = JSONObjectField(
        label="Query", help_text="Optional query data; an entity's own “query” overrides it key by key."
    )
    payload = JSONObjectField(
        label="Payload", help_text="Optional payload data; an entity's own “payload” overrides it key by key."
    )
    transformers = OrderedTransformersField(label="Request transformers")

    class Meta(ConfigurationForm.Meta):
        model = Outgoing
        fields = ConfigurationForm.Meta.fields + ["query", "payload"]

    def attached_transformers(self) -> list[Transformer]:
        return self.instance.transformers_in_order()

    def save_transformers(self, obj: Outgoing) -> None:
        OutgoingTransformer.objects.filter(outgoing=obj).delete()
        OutgoingTransformer.objects.bulk_create(
            OutgoingTransformer(outgoing=obj, transformer=t, position=i)
            for i, t in enumerate(self.cleaned_data.get("transformers") or [])
        )


class ImportForm(forms.Form):
    """Upload an exported configurations file; a dry run only says what would change."""

    file = forms.FileField(label="Configurations file (JSON)")
    dry_run = forms.BooleanField(label="Dry run: only show what would change", required=False, initial=True)

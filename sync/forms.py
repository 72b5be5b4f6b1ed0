"""The settings forms of create-or-update (outgoing) and incremental fetch (incoming), with per-platform prefills."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jmespath
from django import forms
from jmespath.exceptions import JMESPathError

from connections.catalog import find_entity, platform_or_none
from connections.form_fields import JSONObjectField
from storages.models import Storage

from .models import CreateOrUpdate, Watermark
from .publishing import RESPONSE_ID_PATHS
from .watermarks import PREFILLS


def _entity_choices(platform, methods: tuple[str, ...], path_filter=None) -> list[tuple[str, str]]:
    if platform is None:
        return []
    rows = [e for e in platform.catalog.entities if e.method in methods and (path_filter is None or path_filter(e))]
    rows.sort(key=lambda e: (e.deprecated, e.path))
    return [("", "—")] + [(e.key, f"{e.name} ({e.key}){' · deprecated' if e.deprecated else ''}") for e in rows]


def update_entity_for(platform, create_key: str):
    """The update entity next to a create entity: POST /v1/organizations -> PUT /v1/organizations/{id}."""
    create = find_entity(platform, create_key) if platform else None
    if create is None:
        return None
    for method in ("PUT", "PATCH"):
        for entity in platform.catalog.entities:
            if entity.method == method and entity.path.startswith(create.path.rstrip("/") + "/{") \
                    and entity.path.count("/") == create.path.rstrip("/").count("/") + 1:
                return entity
    return None


def response_id_path_for(platform_slug: str, create_path: str) -> str:
    if platform_slug == "picqer":  # Picqer names ids after the resource: /customers -> idcustomer
        resource = create_path.rstrip("/").rsplit("/", 1)[-1]
        return "id" + (resource[:-1] if resource.endswith("s") else resource)
    return RESPONSE_ID_PATHS.get(platform_slug, "id")


def lookup_for(platform, create_key: str) -> dict:
    """A search entity next to the create entity, when the platform has one (Pipedrive, Copper)."""
    create = find_entity(platform, create_key) if platform else None
    if create is None:
        return {}
    search = find_entity(platform, f"GET {create.path.rstrip('/')}/search")
    if search and platform.slug == "pipedrive":
        return {"lookup_entity": search.key, "lookup_query": {"term": "&{payload.name}", "exact_match": "true"},
                "lookup_id_path": "data.items[0].item.id"}
    search = find_entity(platform, f"POST {create.path.rstrip('/')}/search")
    if search and platform.slug == "copper":  # Copper searches by POST with the criteria in the body
        return {"lookup_entity": search.key, "lookup_query": {"name": "&{payload.name}", "page_size": 1},
                "lookup_id_path": "[0].id"}
    return {}


def prefill(outgoing) -> dict:
    platform = platform_or_none(outgoing.platform)
    update = update_entity_for(platform, outgoing.entity)
    create = find_entity(platform, outgoing.entity) if platform else None
    return {
        "update_entity": update.key if update else "",
        "id_parameter": update.path_params[-1] if update and update.path_params else "",
        "response_id_path": response_id_path_for(outgoing.platform, create.path if create else ""),
        **lookup_for(platform, outgoing.entity),
    }


def _check_jmespath(value: str) -> str:
    try:
        jmespath.compile(value)
    except JMESPathError as exc:
        raise forms.ValidationError(f"Not a valid path: {exc}. Use dots between names and [0] for the first "
                                    "item, e.g. data.items[0].item.id.") from None
    return value


class CreateOrUpdateForm(forms.ModelForm):
    new_storage = "__new__"
    lookup_query = JSONObjectField(label="Lookup query", rows=3, example='e.g. {"term": "&{payload.name}"}',
                                   help_text="Query parameters of the lookup; placeholders read the task's data, "
                                             "and &{source_id} is the source id.")

    class Meta:
        model = CreateOrUpdate
        fields = ["enabled", "update_entity", "id_parameter", "storage", "source_key", "data_id_key",
                  "response_id_path", "lookup_entity", "lookup_query", "lookup_id_path"]
        help_texts = {
            "enabled": "Update the record created for a source record before, instead of creating another one.",
            "update_entity": "The entity that updates one record (PUT or PATCH), with the destination id in its path.",
            "id_parameter": "The path parameter of the update entity that carries the destination id.",
            "storage": "Where source id → destination id is kept. Leave on “Create one” to get a new storage.",
            "source_key": "A template read from the task's data, e.g. &{idcustomer} for Picqer customers. "
                          "Keep that key in the data with your route transformers.",
            "data_id_key": "Optional: a key of the task's data that already holds the destination id; when set "
                           "and filled, it is used instead of the mapping.",
            "response_id_path": "Where the create answer holds the new id, e.g. data.id (Pipedrive), idcustomer "
                                "(Picqer), id (Copper).",
            "lookup_entity": "Optional: a search that finds the record when a create's answer was lost (the "
                             "worker stopped). Without it such a task stops and is marked “Needs review”.",
            "lookup_id_path": "Where the lookup answer holds the id of the record found, e.g. data.items[0].item.id.",
        }

    def __init__(self, *args, outgoing=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.outgoing = outgoing
        platform = platform_or_none(outgoing.platform)
        self.platform = platform
        self.fields["update_entity"].widget = forms.Select(choices=_entity_choices(platform, ("PUT", "PATCH")))
        self.fields["lookup_entity"].widget = forms.Select(choices=_entity_choices(
            platform, ("GET", "POST"), lambda e: e.method == "GET" or e.path.endswith("/search")))
        storage = self.fields["storage"]
        storage.queryset = Storage.objects.order_by("name")
        storage.empty_label = "Create one for me"

    def clean_response_id_path(self):
        value = (self.cleaned_data.get("response_id_path") or "").strip()
        return _check_jmespath(value) if value else value

    def clean_lookup_id_path(self):
        value = (self.cleaned_data.get("lookup_id_path") or "").strip()
        return _check_jmespath(value) if value else value

    def clean(self):
        data = super().clean()
        if not data.get("enabled"):
            return data
        if (self.outgoing.method or "").upper() != "POST":
            self.add_error("enabled", "Create or update needs an outgoing whose entity creates records (POST); "
                                      f"this one sends {self.outgoing.method or '?'}.")
        update = find_entity(self.platform, data.get("update_entity") or "") if self.platform else None
        if update is None:
            self.add_error("update_entity", "Choose the entity that updates one record.")
        elif data.get("id_parameter") not in update.path_params:
            names = ", ".join(update.path_params) or "none"
            self.add_error("id_parameter", f"“{update.key}” has the path parameters: {names}. Pick the one that "
                                           "carries the destination id.")
        if not data.get("response_id_path"):
            self.add_error("response_id_path", "Say where the create answer holds the new id.")
        if not (data.get("source_key") or "").strip():
            self.add_error("source_key", "Say which key of the data holds the source record's id, e.g. &{id}.")
        if data.get("lookup_entity") and not data.get("lookup_id_path"):
            self.add_error("lookup_id_path", "Say where the lookup answer holds the id of the record found.")
        return data

    def save(self, commit=True):
        plan = super().save(commit=False)
        if plan.enabled and plan.storage_id is None:
            plan.storage = Storage.objects.create(
                name=f"{self.outgoing.name} ID mapping"[:200],
                identifier=_free_identifier(f"{self.outgoing.identifier}-id-mapping"),
                description=f"Source id → destination id for the outgoing configuration “{self.outgoing.name}”.")
        if commit:
            plan.save()
        return plan


def _free_identifier(base: str) -> str:
    candidate, n = base[:190], 2
    while Storage.objects.filter(identifier=candidate).exists():
        candidate, n = f"{base[:185]}-{n}", n + 1
    return candidate


class WatermarkForm(forms.ModelForm):
    add_filter = forms.BooleanField(required=False, label="Add the platform's “changed since” filter to the "
                                                          "request parameters")

    class Meta:
        model = Watermark
        fields = ["enabled", "source", "field", "overlap_seconds", "time_zone"]
        help_texts = {
            "enabled": "Fill &{watermark:FORMAT} in the request parameters, so a run asks only for records changed "
                       "since the last successful run.",
            "field": "For “largest value of a field”: the record's date key, e.g. updated or update_time.",
            "overlap_seconds": "Ask from this much earlier than the watermark, against clock differences and "
                               "records saved while the last run read. Records read twice make no second task.",
            "time_zone": "The platform's time zone for dates without one, e.g. Europe/Amsterdam for Picqer; "
                         "the watermark is rendered in it.",
        }

    def clean_time_zone(self):
        name = (self.cleaned_data.get("time_zone") or "UTC").strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(f"“{name}” is not a time zone; use a name like UTC or "
                                        "Europe/Amsterdam.") from None
        return name

    def clean(self):
        data = super().clean()
        if data.get("source") == Watermark.Source.FIELD and not (data.get("field") or "").strip():
            self.add_error("field", "Name the field whose largest value becomes the watermark.")
        return data


def prefill_filter(platform_slug: str) -> dict:
    return PREFILLS.get(platform_slug, {})

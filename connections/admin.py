"""Django admin for the connections app: configurations, routes, runs and tasks.

Runs and tasks are the engine's record of what happened: readable here, changed only through
the dashboard's actions (retry, skip, cancel), which keep their invariants.
"""
from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Q

from alumio_lite.big_tables import BigTableAdmin, ChoicesFilter

from . import json_policy, task_search
from .form_fields import unstorable_message
from .models import (
    Incoming,
    IncomingTransformer,
    Outgoing,
    OutgoingTransformer,
    Route,
    RouteTransformer,
    Run,
    Task,
    Transformer,
    WorkerHeartbeat,
)


class PolicyJSONField(forms.JSONField):
    """The admin's JSON box, refusing what json_policy refuses (NaN, 1e309, "\\ud800", 5,000 levels)."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip():
            try:
                json_policy.loads(value)
            except json_policy.Unstorable as exc:
                raise forms.ValidationError(unstorable_message(exc), code="unstorable") from None
            except ValueError:
                pass  # not JSON at all: the admin's own message
        return super().to_python(value)

    def bound_data(self, data, initial):
        if self.disabled:
            return initial
        try:
            json_policy.loads(data or "null")
        except ValueError:  # refused or not JSON: shown again exactly as typed, with the error above
            return forms.fields.InvalidJSONInput(data)
        return super().bound_data(data, initial)

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json_policy.for_display(value, indent=None)  # a value saved before the policy still shows


class PolicyJSONAdmin(admin.ModelAdmin):
    formfield_overrides = {models.JSONField: {"form_class": PolicyJSONField}}


class IncomingTransformerInline(admin.TabularInline):
    model = IncomingTransformer
    extra = 0


class OutgoingTransformerInline(admin.TabularInline):
    model = OutgoingTransformer
    extra = 0


class RouteTransformerInline(admin.TabularInline):
    model = RouteTransformer
    extra = 0


@admin.register(Incoming)
class IncomingAdmin(PolicyJSONAdmin):
    list_display = ("name", "identifier", "platform", "entity", "client", "pagination", "disabled")
    list_filter = ("platform", "disabled")
    search_fields = ("name", "identifier", "entity")
    inlines = [IncomingTransformerInline]


@admin.register(Outgoing)
class OutgoingAdmin(PolicyJSONAdmin):
    list_display = ("name", "identifier", "platform", "method", "entity", "client", "disabled")
    list_filter = ("platform", "disabled")
    search_fields = ("name", "identifier", "entity")
    inlines = [OutgoingTransformerInline]


@admin.register(Transformer)
class TransformerAdmin(PolicyJSONAdmin):
    list_display = ("name", "identifier", "updated_at")
    search_fields = ("name", "identifier")


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    list_display = ("name", "identifier", "incoming", "outgoing", "enabled", "realtime", "retry_on_failure")
    list_filter = ("enabled", "realtime")
    search_fields = ("name", "identifier")
    inlines = [RouteTransformerInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TriggerFilter(ChoicesFilter):
    title = "trigger"
    parameter_name = "trigger"
    options = {t: (t, Q(trigger=t)) for t in ("manual", "schedule", "cli")}


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin, BigTableAdmin):
    list_display = ("pk", "incoming", "status", "trigger", "pages", "entities", "filtered", "tasks_created",
                    "created_at", "finished_at")
    list_filter = ("status", TriggerFilter)
    list_select_related = ("incoming",)


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin, BigTableAdmin):
    list_display = ("pk", "label", "record_id", "route", "status", "attempts", "response_status", "created_at",
                    "updated_at")
    list_filter = ("status", "route")
    # Indexed lookups only (connections.task_search): the record's id, the start of its label, a task number.
    search_fields = ("record_id",)
    search_help_text = "The record's id at the source, the start of its label, or a task number."
    list_select_related = ("route",)
    changelist_defer = ("data", "response_body", "last_error")

    def get_search_results(self, request, queryset, search_term):
        term = " ".join(search_term.split())
        if not term:
            return queryset, False
        found = task_search.matching(term)
        if term.lstrip("#").isdigit():
            found |= Q(pk=int(term.lstrip("#")))
        return queryset.filter(found), False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("hostname", "seen_at")

"""Django admin for the connections app: configurations, routes, runs and tasks.

Runs and tasks are the engine's record of what happened: readable here, changed only through
the dashboard's actions (retry, skip, cancel), which keep their invariants.
"""
from django.contrib import admin

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
class IncomingAdmin(admin.ModelAdmin):
    list_display = ("name", "identifier", "platform", "entity", "client", "pagination", "disabled")
    list_filter = ("platform", "disabled")
    search_fields = ("name", "identifier", "entity")
    inlines = [IncomingTransformerInline]


@admin.register(Outgoing)
class OutgoingAdmin(admin.ModelAdmin):
    list_display = ("name", "identifier", "platform", "method", "entity", "client", "disabled")
    list_filter = ("platform", "disabled")
    search_fields = ("name", "identifier", "entity")
    inlines = [OutgoingTransformerInline]


@admin.register(Transformer)
class TransformerAdmin(admin.ModelAdmin):
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


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "incoming", "status", "trigger", "pages", "entities", "filtered", "tasks_created",
                    "created_at", "finished_at")
    list_filter = ("status", "trigger")
    date_hierarchy = "created_at"


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("pk", "route", "status", "attempts", "response_status", "created_at", "updated_at")
    list_filter = ("status", "route")
    search_fields = ("dedupe_key",)
    date_hierarchy = "created_at"


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("hostname", "seen_at")

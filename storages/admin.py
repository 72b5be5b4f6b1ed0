"""Django admin for storages: definitions editable; entries readable and searchable by key (millions of rows)."""
from django.contrib import admin

from alumio_lite.big_tables import BigTableAdmin

from .models import Storage, StorageChange, StorageEntry


@admin.register(Storage)
class StorageAdmin(admin.ModelAdmin):
    list_display = ("name", "identifier", "time_to_live_days", "log_changes", "updated_at")
    search_fields = ("name", "identifier")


@admin.register(StorageEntry)
class StorageEntryAdmin(BigTableAdmin):
    list_display = ("key", "storage", "updated_at")
    list_filter = ("storage",)
    # A prefix match uses the (storage, key) index; a "contains" search would scan every entry.
    search_fields = ("key__startswith",)
    readonly_fields = ("storage", "key", "value", "digest", "created_at", "updated_at")
    changelist_defer = ("value",)

    def has_add_permission(self, request):
        return False  # entries are written by transformers and create-or-update, not by hand


@admin.register(StorageChange)
class StorageChangeAdmin(BigTableAdmin):
    list_display = ("created_at", "storage", "key", "action", "source")
    list_filter = ("storage", "action")
    readonly_fields = ("storage", "key", "action", "value", "source", "created_at")

    def has_add_permission(self, request):
        return False

"""Django admin: webhooks (secrets never shown) and the requests they received (read-only)."""
from django.contrib import admin

from .models import Webhook, WebhookRequest


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("name", "identifier", "preset", "log_requests", "disabled", "updated_at")
    list_filter = ("preset", "disabled")
    search_fields = ("name", "identifier", "description")
    # The encrypted secrets are edited on the dashboard's page only, and never shown back.
    exclude = ("secrets",)
    readonly_fields = ("registration", "registration_client")
    filter_horizontal = ("incomings",)


@admin.register(WebhookRequest)
class WebhookRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "webhook", "received_at", "source_ip", "http_status", "status", "size", "entities",
                    "tasks_created")
    list_filter = ("status", "webhook")
    date_hierarchy = "received_at"
    list_select_related = ("webhook",)
    # The body is shown (redacted) on the dashboard's request page; here it would be raw bytes.
    exclude = ("body",)

    def has_add_permission(self, request) -> bool:
        return False  # requests only come in through the endpoint

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # changed only by the workers' claim protocol and Replay

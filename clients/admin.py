"""Django admin for HTTP Clients and request logs.

Secrets and tokens are excluded from every admin form and list: the admin only says whether
they are "set". Request logs are read-only (they are evidence, not data to edit).
"""
from django.contrib import admin

from .models import HttpClient, RequestLog
from .redaction import redact_text


def _set(value: dict) -> str:
    return "set" if value else "not set"


@admin.register(HttpClient)
class HttpClientAdmin(admin.ModelAdmin):
    list_display = ("name", "identifier", "platform", "auth_state", "log_requests", "last_used_at")
    list_filter = ("platform", "auth_state", "log_requests")
    search_fields = ("name", "identifier")
    # Tokens and the other auth fields are the token code's (HttpClient.AUTH_FIELDS): shown, never edited.
    readonly_fields = ("secrets_state", "tokens_state", "token_expires_at", "auth_state", "auth_error_redacted",
                       "refresh_error_redacted", "refresh_failed_at", "last_used_at", "last_error_redacted",
                       "created_at", "updated_at")
    exclude = ("secrets", "tokens", "auth_error", "last_error", "token_version", "refresh_claim",
               "refresh_claimed_until", "refresh_error")

    @admin.display(description="Secrets")
    def secrets_state(self, obj: HttpClient) -> str:
        return _set(obj.secrets)

    @admin.display(description="Authentication error")
    def auth_error_redacted(self, obj: HttpClient) -> str:
        return redact_text(obj.auth_error, obj.secret_values())

    @admin.display(description="Last token refresh error")
    def refresh_error_redacted(self, obj: HttpClient) -> str:
        return redact_text(obj.refresh_error, obj.secret_values())

    @admin.display(description="Last error")
    def last_error_redacted(self, obj: HttpClient) -> str:
        return redact_text(obj.last_error, obj.secret_values())

    @admin.display(description="OAuth tokens")
    def tokens_state(self, obj: HttpClient) -> str:
        return _set(obj.tokens)


@admin.register(RequestLog)
class RequestLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "client", "method", "url", "status", "duration_ms")
    list_filter = ("client", "method", "status")
    search_fields = ("url", "error")
    date_hierarchy = "created_at"
    list_select_related = ("client",)
    raw_id_fields = ("run", "task")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

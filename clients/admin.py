"""Django admin for HTTP Clients and request logs.

Secrets and tokens are excluded from every admin form and list: the admin only says whether
they are "set". Request logs are read-only (they are evidence, not data to edit).
"""
from django.contrib import admin
from django.db.models import Q

from alumio_lite.big_tables import COUNT_CAP, BigTableAdmin, ChoicesFilter

from .models import HttpClient, RequestLog
from .redaction import redact_text
from .views.request_logs import STATUS_CLASSES


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


class MethodFilter(ChoicesFilter):
    title = "method"
    parameter_name = "method"
    options = {m: (m, Q(method=m)) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")}


class StatusClassFilter(ChoicesFilter):
    title = "status"
    parameter_name = "status_class"
    options = STATUS_CLASSES


@admin.register(RequestLog)
class RequestLogAdmin(BigTableAdmin):
    list_display = ("created_at", "client", "method", "url", "status", "duration_ms")
    list_filter = ("client", MethodFilter, StatusClassFilter)
    # Only indexed lookups, one at a time: the number of a request log, or "task N" / "run N" for
    # the logs of a task or run (an OR of the three made SQLite read the whole table: 11 s at 1.5M).
    search_fields = ("id",)
    search_help_text = "A request log's number, or “task 12” / “run 5” for the logs of a task or run."
    list_select_related = ("client",)
    raw_id_fields = ("run", "task")
    changelist_defer = ("request_headers", "request_body", "response_headers", "response_body",
                        "client__secrets", "client__tokens")

    def get_search_results(self, request, queryset, search_term):
        words = search_term.replace(":", " ").replace("#", " ").lower().split()
        if not words:
            return queryset, False
        field = {"task": "task_id", "run": "run_id"}.get(words[0], "pk") if len(words) == 2 else "pk"
        number = words[-1]
        if len(words) > 2 or not number.isdigit() or (len(words) == 2 and field == "pk"):
            return queryset.none(), False
        if field == "pk":
            return queryset.filter(pk=int(number)), False
        # The ids first, through the (task or run) index: asked for "task_id = N ORDER BY id DESC",
        # SQLite's planner, told by its statistics that the column is mostly empty, read the whole
        # table in id order instead (4.6 s at 1.5M logs).
        ids = RequestLog.objects.filter(**{field: int(number)}).order_by("-pk").values("pk")[:COUNT_CAP]
        return queryset.filter(pk__in=ids), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

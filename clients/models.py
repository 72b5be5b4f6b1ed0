"""HTTP Clients (saved connections to a platform) and the request logs they write."""
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from .crypto import EncryptedJSONField


class HttpClient(models.Model):
    """A saved connection to one platform: settings, secrets (encrypted), OAuth tokens."""

    class AuthState(models.TextChoices):
        CREDENTIALS = "credentials", "API key set"
        NEEDS_GRANT = "needs_grant", "Needs grant"
        GRANTED = "granted", "Access granted"

    name = models.CharField(max_length=200)
    identifier = models.SlugField(max_length=200, unique=True)
    platform = models.CharField(max_length=40, db_index=True)  # a key of clients.platforms.registry.PLATFORMS
    # Non-secret field values by field name (Base URI, Client ID, Scopes, ...).
    settings = models.JSONField(default=dict, blank=True)
    # Secret field values by field name (API Key, Client Secret, Private Key, ...).
    secrets = EncryptedJSONField(blank=True, default=dict)
    # OAuth tokens: {"access_token", "refresh_token", "token_type", "scope"}.
    tokens = EncryptedJSONField(blank=True, default=dict)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    auth_state = models.CharField(max_length=20, choices=AuthState.choices, default=AuthState.CREDENTIALS)
    auth_error = models.TextField(blank=True)  # why a grant is needed (e.g. invalid_grant)
    log_requests = models.BooleanField("Enable request logging", default=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "HTTP Client"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("clients:detail", args=[self.identifier])

    def secret_values(self) -> list[str]:
        """Every secret string this client holds, for redaction of free text."""
        values = [str(v) for v in self.secrets.values() if v]
        values += [str(v) for k, v in self.tokens.items() if k in ("access_token", "refresh_token") and v]
        return values


class OAuthState(models.Model):
    """One "Grant access" attempt: random, single use, bound to a user, session and client."""

    state = models.CharField(max_length=128, unique=True)
    client = models.ForeignKey(HttpClient, on_delete=models.CASCADE, related_name="oauth_states")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    session_key_hash = models.CharField(max_length=64)
    code_verifier = EncryptedJSONField(blank=True, default=dict)  # {"value": ...}
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)


class RequestLog(models.Model):
    """One HTTP exchange with a platform, secrets redacted before it is saved."""

    client = models.ForeignKey(HttpClient, on_delete=models.CASCADE, related_name="request_logs")
    run = models.ForeignKey(
        "connections.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="request_logs"
    )
    task = models.ForeignKey(
        "connections.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="request_logs"
    )
    method = models.CharField(max_length=10)
    url = models.TextField()
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # None: no response (timeout, refused)
    duration_ms = models.PositiveIntegerField(default=0)
    request_headers = models.JSONField(default=dict, blank=True)
    request_body = models.TextField(blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "-created_at"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.method} {self.url} -> {self.status or 'no response'}"

    def get_absolute_url(self) -> str:
        return reverse("clients:request_log", args=[self.pk])

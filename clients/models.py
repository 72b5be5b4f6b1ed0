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
        REFUSED = "refused", "API key refused"  # the platform answered 401 to the stored key
        NEEDS_GRANT = "needs_grant", "Needs grant"
        GRANTED = "granted", "Access granted"

    # Written only by the token and authentication code (clients.oauth, clients.token_refresh,
    # clients.auth_status) with targeted UPDATEs: a form or the admin that saves a client it
    # loaded before a refresh committed would otherwise put the old, rotated-away tokens back.
    AUTH_FIELDS = frozenset({
        "tokens", "token_expires_at", "token_version", "auth_state", "auth_error",
        "refresh_claim", "refresh_claimed_until", "refresh_error", "refresh_failed_at",
    })

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
    # Compare-and-set for token writes: each save of new tokens adds one.
    token_version = models.PositiveIntegerField(default=0)
    # The refresh lease: one process at a time calls the token endpoint, holding no lock.
    refresh_claim = models.CharField(max_length=64, blank=True)
    refresh_claimed_until = models.DateTimeField(null=True, blank=True)
    # The last refresh that failed while the grant itself still stands (cleared by a success).
    refresh_error = models.TextField(blank=True)
    refresh_failed_at = models.DateTimeField(null=True, blank=True)
    log_requests = models.BooleanField("Enable request logging", default=False)
    # The shared rate budget (clients/rate_budget): None = the platform's documented limit, 0 = none.
    rate_limit_per_minute = models.PositiveIntegerField("Requests per minute", null=True, blank=True)
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

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._auth_loaded = {k: instance.__dict__[k] for k in cls.AUTH_FIELDS if k in instance.__dict__}
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self.remember_auth()

    def remember_auth(self) -> None:
        """Note the auth fields as stored now (the token code calls it after its UPDATEs)."""
        self._auth_loaded = {k: self.__dict__[k] for k in self.AUTH_FIELDS if k in self.__dict__}

    def save(self, *args, **kwargs):
        """Saves everything but the auth fields of an existing client (see AUTH_FIELDS).

        Changing an auth field in memory and calling save() is a mistake that would lose a
        concurrent refresh; it raises instead of being silently ignored.
        """
        if kwargs.get("update_fields") is None and not self._state.adding and self.pk is not None:
            loaded = getattr(self, "_auth_loaded", {})
            changed = sorted(k for k, v in loaded.items() if self.__dict__.get(k) != v)
            if changed:
                raise ValueError(f"{', '.join(changed)} of an HTTP Client are written by the token code only")
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [f.name for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name not in self.AUTH_FIELDS
                                       and f.attname not in deferred]
        super().save(*args, **kwargs)
        self.remember_auth()

    def secret_values(self) -> list[str]:
        """Every secret string this client holds, for redaction of free text."""
        values = [str(v) for v in self.secrets.values() if v]
        values += [str(v) for k, v in self.tokens.items() if k in ("access_token", "refresh_token") and v]
        if any("${" in v for v in values):  # a secret written as ${NAME}: its value is the secret
            from variables.resolve import client_fields

            values += [str(v) for v in client_fields(self)[1].values() if v]
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


# A request log that went wrong: an error answer, no answer at all, or an error noted on it.
REQUEST_LOG_ERRORS = models.Q(status__gte=400) | models.Q(status__isnull=True) | ~models.Q(error="")
# Every log but a plain success: a small slice of a large table, kept in a partial index. The list's
# filters other than 2xx repeat this condition word for word, so that both databases see the index
# holds every row they want (SQLite only matches a partial index by its exact terms).
REQUEST_LOG_UNSUCCESSFUL = models.Q(status__gte=300) | models.Q(status__isnull=True) | ~models.Q(error="")


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
        # Newest first by id (ids grow with every insert): each list filter is one index range read
        # backwards, and "Load older" continues below the last id shown.
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["client", "id"], name="requestlog_client_newest"),
            models.Index(fields=["id"], name="requestlog_unsuccessful", condition=REQUEST_LOG_UNSUCCESSFUL),
            # A task's logs in the order they were sent (the task page). Partial: logs of a fetch have
            # no task, and SQLite's statistics count all those NULLs as one value, so on a table of
            # mostly fetch logs the plain task_id index looked useless and the page read the whole
            # table in created_at order (2.3 s at 1.5M logs). `task_id = n` implies the condition.
            models.Index(fields=["task", "created_at", "id"], name="requestlog_task_order",
                         condition=models.Q(task__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.url} -> {self.status or 'no response'}"

    def get_absolute_url(self) -> str:
        return reverse("clients:request_log", args=[self.pk])


class RateBudget(models.Model):
    """The shared rate budget of one HTTP Client in the database (when the broker is not Redis).

    Times are Unix seconds. Written only by clients.rate_budget, one compare-and-set UPDATE per
    slot (`version`), never inside a transaction that waits or calls a platform.
    """

    client = models.OneToOneField(HttpClient, primary_key=True, on_delete=models.CASCADE, related_name="+")
    next_free = models.FloatField(default=0)  # when the next request may go, at the paced rate
    paused_until = models.FloatField(default=0)  # nobody sends before this (a 429, remaining 0)
    pause_reason = models.CharField(max_length=300, blank=True)
    learned_limit = models.PositiveIntegerField(null=True, blank=True)  # the platform's limit header
    learned_at = models.FloatField(default=0)
    minute = models.BigIntegerField(default=0)  # Unix minute that `used` counts
    used = models.PositiveIntegerField(default=0)
    used_before = models.PositiveIntegerField(default=0)  # in the minute before `minute`
    version = models.BigIntegerField(default=0)

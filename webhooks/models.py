"""Webhooks (endpoints platforms push to) and the requests they received.

A WebhookRequest row is the durable queue between the public endpoint and the workers: the
endpoint answers only after the row is committed, and a worker claims it (see processing.py)
to turn it into tasks exactly once.
"""
from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone

from clients.crypto import EncryptedJSONField


class Webhook(models.Model):
    """Connections -> Webhooks: `POST /webhooks/<identifier>` hands its data to Incoming configurations."""

    name = models.CharField(max_length=200)
    identifier = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    disabled = models.BooleanField(default=False)
    incomings = models.ManyToManyField("connections.Incoming", related_name="webhooks",
                                       verbose_name="Incoming configurations")
    log_requests = models.BooleanField(
        "Enable logging", default=True,
        help_text="Keep refused requests (failed validators, oversized bodies) on the requests page too.")
    preset = models.CharField(max_length=40, blank=True)  # the platform whose preset filled the validators
    # The request validators without their secrets, see validators.py: {"shared_secret": {...}, "hmac": {...},
    # "basic": {...}, "ip_allow_list": [...], "max_body_bytes": n}
    validators = models.JSONField(default=dict, blank=True)
    # {"shared_secret": "...", "hmac": "...", "basic_password": "..."}; encrypted, never rendered back.
    secrets = EncryptedJSONField(blank=True, default=dict)
    # The subscription made at the platform ("Register at the platform"), see registration.py.
    registration = models.JSONField(default=dict, blank=True)
    registration_client = models.ForeignKey("clients.HttpClient", null=True, blank=True,
                                            on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("webhooks:edit", args=[self.pk])

    def endpoint_path(self) -> str:
        return reverse("webhooks:intake", args=[self.identifier])

    def secret_values(self) -> list[str]:
        """Every secret of this webhook, for redaction."""
        return [str(v) for v in self.secrets.values() if v]


class WebhookRequest(models.Model):
    """One request received at a webhook: stored raw, then processed by a worker."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"  # stored, waiting for a worker
        PROCESSING = "processing", "Processing"  # claimed by a worker
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"  # accepted, but its body or a transformer failed
        REFUSED = "refused", "Refused"  # a validator or a limit refused it (never processed)

    # No index of its own: webhook_request_list (webhook, -received_at) leads with it, and every
    # index is one more write in each intake commit (migration 0002 dropped it).
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="requests", db_index=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField()  # what the endpoint answered
    validator_result = models.CharField(max_length=300, blank=True)  # "accepted" or why it was refused
    content_type = models.CharField(max_length=200, blank=True)
    query_string = models.TextField(blank=True)  # secrets in it replaced at intake
    headers = models.JSONField(default=dict, blank=True)  # credential headers replaced at intake
    body = models.BinaryField(blank=True, default=b"")  # raw bytes, as signed; empty when refused
    size = models.PositiveIntegerField(default=0)  # bytes of the body as sent
    entities = models.PositiveIntegerField(default=0)
    tasks_created = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # Claim protocol (processing.py): who holds it since when; runs per incoming ({incoming id: run id}),
    # made once per processing so a reprocessed request reuses them (and their task keys).
    claim_token = models.CharField(max_length=40, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    runs = models.JSONField(default=dict, blank=True)
    done_incomings = models.JSONField(default=list, blank=True)  # incoming ids whose tasks are stored
    replays = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # Workers look for Received requests and for Processing ones whose claim expired.
            models.Index(fields=["status", "claimed_at"], name="webhook_request_claim"),
            models.Index(fields=["webhook", "-received_at"], name="webhook_request_list"),
        ]

    def __str__(self) -> str:
        return f"Request {self.pk} to {self.webhook}"

    def get_absolute_url(self) -> str:
        return reverse("webhooks:request_detail", args=[self.pk])

"""Storages (Alumio's concept): named key -> entity stores kept in the database.

Transformers save entities to a storage and read them back by key ("Save to storage", "Get from
storage", "Filter previously stored entities"); create-or-update keeps its source id -> destination id
mapping in one. A key is unique within its storage, and the (storage, key) index makes a lookup one
index probe however many millions of entries a storage holds.
"""
from datetime import timedelta

from django.db import models
from django.urls import reverse
from django.utils import timezone


class Storage(models.Model):
    name = models.CharField(max_length=200)
    identifier = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    time_to_live_days = models.PositiveIntegerField(
        "Time to live (days)", null=True, blank=True,
        help_text="Entries not saved again for this many days are pruned. Leave empty to keep them forever.")
    log_changes = models.BooleanField(
        default=False, help_text="Keep a history of every save and delete (who changed which key, and when).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("storages:detail", args=[self.pk])

    def expiry_limit(self, now=None):
        """Entries last saved before this moment have outlived the time to live (None: kept forever)."""
        if not self.time_to_live_days:
            return None
        return (now or timezone.now()) - timedelta(days=self.time_to_live_days)


class StorageEntry(models.Model):
    storage = models.ForeignKey(Storage, on_delete=models.CASCADE, related_name="entries")
    key = models.CharField(max_length=255)
    value = models.JSONField()
    # A digest of the value: "unchanged since it was stored" is one string comparison, and the
    # filter kind can ask for digests only instead of loading whole entities.
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["storage", "key"], name="unique_storage_key")]
        indexes = [models.Index(fields=["storage", "updated_at"], name="storage_entry_age")]

    def __str__(self) -> str:
        return f"{self.storage}: {self.key}"


class StorageChange(models.Model):
    """One save or delete in a storage with "Log changes" on."""

    class Action(models.TextChoices):
        SAVED = "saved", "Saved"
        DELETED = "deleted", "Deleted"
        PRUNED = "pruned", "Pruned"

    storage = models.ForeignKey(Storage, on_delete=models.CASCADE, related_name="changes")
    key = models.CharField(max_length=255)
    action = models.CharField(max_length=10, choices=Action.choices)
    value = models.JSONField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True)  # "run 12", "task 40", "user ann"
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

"""Keeping two systems in sync: create-or-update on outgoing configurations, watermarks on incoming ones.

Both hang off the configuration they extend (one-to-one), so a configuration without them works
exactly as before and the connections app needs no new columns.
"""
from django.db import models
from django.utils import timezone


class CreateOrUpdate(models.Model):
    """An outgoing configuration that updates the record it created before instead of creating another.

    The outgoing's own entity is the create entity (POST). The mapping storage maps the source
    record's id (``source_key``, a template on the task data) to the destination id. An entry
    ``{"id": 42}`` means "update record 42"; ``{"creating": true, ...}`` means a create was sent
    and its answer was never saved (see sync.publishing for what happens then).
    """

    outgoing = models.OneToOneField("connections.Outgoing", on_delete=models.CASCADE, related_name="create_or_update")
    enabled = models.BooleanField("Create or update", default=False)
    update_entity = models.CharField(max_length=300, blank=True)
    id_parameter = models.CharField("Path parameter for the destination id", max_length=100, blank=True)
    storage = models.ForeignKey("storages.Storage", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name="ID mapping storage")
    source_key = models.CharField("Source id", max_length=300, default="&{id}")
    data_id_key = models.CharField("Destination id in the data", max_length=200, blank=True)
    response_id_path = models.CharField("Id in the create response", max_length=300, blank=True)
    lookup_entity = models.CharField(max_length=300, blank=True)
    lookup_query = models.JSONField(default=dict, blank=True)
    lookup_id_path = models.CharField("Id in the lookup response", max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Create or update for {self.outgoing}"


class Watermark(models.Model):
    """Incremental fetch: how far an incoming configuration has read, for ``&{watermark:FORMAT}``."""

    class Source(models.TextChoices):
        RUN_START = "run_start", "When the last successful run started"
        FIELD = "field", "The largest value of a field of the records"

    incoming = models.OneToOneField("connections.Incoming", on_delete=models.CASCADE, related_name="watermark")
    enabled = models.BooleanField("Incremental fetch", default=False)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.RUN_START)
    field = models.CharField("Field", max_length=200, blank=True)
    overlap_seconds = models.PositiveIntegerField("Overlap (seconds)", default=300)
    time_zone = models.CharField("Time zone of the platform's dates", max_length=64, default="UTC")
    value = models.DateTimeField(null=True, blank=True)
    advanced_at = models.DateTimeField(null=True, blank=True)
    advanced_by = models.ForeignKey("connections.Run", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Watermark of {self.incoming}"

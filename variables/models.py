"""Settings -> Environment variables: ${NAME} placeholders with a value per installation."""
from django.core.validators import RegexValidator
from django.db import models

from clients.crypto import EncryptedJSONField

NAME_PATTERN = r"[A-Z][A-Z0-9_]*"


class Variable(models.Model):
    """A value used wherever ${NAME} is written. Every value is encrypted at rest; an encrypted
    ("secret") one is also never shown back and is redacted from request logs."""

    name = models.CharField(max_length=100, unique=True, validators=[RegexValidator(
        f"^{NAME_PATTERN}$", "Use capitals, digits and _ and start with a letter, e.g. PICQER_BASE_URI.")])
    secret = models.BooleanField("Encrypted", default=False,
                                 help_text="Never shown again after saving, and redacted from request logs.")
    stored = EncryptedJSONField(default=dict, blank=True)  # {"value": "..."}
    description = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def value(self) -> str:
        return (self.stored or {}).get("value", "")

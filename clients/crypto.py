"""Encryption at rest for secrets (API keys, client secrets, OAuth tokens).

MultiFernet: the first key in settings.ENCRYPTION_KEYS encrypts, every key decrypts, so a
new key can be put in front and `manage.py rotate_encryption_key` re-encrypts old rows.
"""
import base64
import hashlib
import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def _derived_key() -> bytes:
    # Fallback for local use only: a Fernet key derived from SECRET_KEY.
    digest = hashlib.sha256(b"alumio-lite secrets:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    raw = [k.encode() for k in keys] or [_derived_key()]
    return MultiFernet([Fernet(k) for k in raw])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # never echo the token itself
        raise ValueError("a stored secret cannot be decrypted with the configured keys") from exc


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


class EncryptedJSONField(models.TextField):
    """A dict stored as one Fernet token. Python code sees the dict; the database never does."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return {}
        return json.loads(decrypt(value))

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        if value in (None, ""):
            return {}
        return json.loads(decrypt(value))

    def get_prep_value(self, value):
        if value in (None, "", {}):
            return ""
        return encrypt(json.dumps(value, sort_keys=True))

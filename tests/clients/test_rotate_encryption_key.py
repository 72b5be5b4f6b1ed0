"""manage.py rotate_encryption_key: everything re-encrypted with the first key, nothing lost."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from clients.models import HttpClient

pytestmark = pytest.mark.django_db


def _raw(pk: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets, tokens FROM clients_httpclient WHERE id = %s", [pk])
        return cursor.fetchone()


def test_rotation_re_encrypts_with_the_new_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    client = HttpClient.objects.create(name="T", identifier="t", platform="timely",
                                       secrets={"client_secret": "s3cret"}, tokens={"access_token": "tok"})
    settings.ENCRYPTION_KEYS = [new, old]
    call_command("rotate_encryption_key")
    secrets_raw, tokens_raw = _raw(client.pk)
    only_new = Fernet(new.encode())
    assert b"s3cret" in only_new.decrypt(secrets_raw.encode())
    assert b"tok" in only_new.decrypt(tokens_raw.encode())
    settings.ENCRYPTION_KEYS = [new]  # the old key can now be dropped
    assert HttpClient.objects.get(pk=client.pk).secrets == {"client_secret": "s3cret"}


def test_undecryptable_value_stops_without_changes(settings):
    first = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [first]
    client = HttpClient.objects.create(name="A", identifier="a", platform="picqer", secrets={"api_key": "k1-value"})
    before = _raw(client.pk)
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key was lost
    with pytest.raises(CommandError) as caught:
        call_command("rotate_encryption_key")
    assert "cannot be decrypted" in str(caught.value) and "k1-value" not in str(caught.value)
    assert _raw(client.pk) == before

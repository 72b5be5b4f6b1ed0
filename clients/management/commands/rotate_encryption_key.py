"""Re-encrypt every stored secret with the first key of settings.ENCRYPTION_KEYS.

Rotation: put a new Fernet key in front of ENCRYPTION_KEYS (keep the old ones after it),
restart, run this command, then drop the old keys. Every EncryptedJSONField of every model is
covered (HTTP Client secrets and tokens, OAuth state verifiers), in one transaction: a value
no configured key can decrypt stops the command and nothing is changed.
"""
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from audit import events as audit
from clients import crypto
from clients.crypto import EncryptedJSONField


class Command(BaseCommand):
    help = "Re-encrypt all secrets and OAuth tokens with the first key of ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        total = 0
        with transaction.atomic():
            for model in apps.get_models():
                fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedJSONField)]
                if fields:
                    total += self._rotate(model, fields)
            audit.record("Encryption key rotation", detail=f"Re-encrypted {total} value(s) with the first key.")
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} value(s) with the first key."))

    def _rotate(self, model, fields) -> int:
        # Raw column values: rotating the Fernet tokens as they are needs no JSON round trip.
        table = connection.ops.quote_name(model._meta.db_table)
        pk = model._meta.pk
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {connection.ops.quote_name(pk.column)}, {columns} FROM {table}")
            rows = cursor.fetchall()
        count = 0
        for row in rows:
            updates = {}
            for field, raw in zip(fields, row[1:], strict=True):
                if not raw:
                    continue
                try:
                    rotated = crypto.rotate(raw)
                except Exception:  # InvalidToken: say where, never what
                    raise CommandError(
                        f"{model._meta.label} #{row[0]} field {field.name}: cannot be decrypted with any "
                        "key in ENCRYPTION_KEYS; nothing was changed"
                    ) from None
                updates[field.column] = rotated
            if updates:
                sets = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in updates)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {table} SET {sets} WHERE {connection.ops.quote_name(pk.column)} = %s",
                        [*updates.values(), row[0]],
                    )
                count += len(updates)
        if count:
            self.stdout.write(f"{model._meta.label}: {count} value(s)")
        return count

"""Import Incoming/Outgoing configurations from an export file; --dry-run says what would change."""
from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from connections import portable


class Command(BaseCommand):
    help = "Import configurations from a JSON export. All or nothing; --dry-run only reports."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the export file, or - for standard input")
        parser.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")

    def handle(self, *args, file: str, dry_run: bool = False, **options):
        try:
            raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:
            document = portable.loads(raw)
        except portable.ImportFileError as exc:
            raise CommandError(f"{file}: {exc}") from None
        report = portable.import_document(document, dry_run=dry_run)
        for change in report.changes:
            detail = ""
            if change.errors:
                detail = ": " + "; ".join(change.errors)
            elif change.changed_fields:
                detail = " (" + ", ".join(change.changed_fields) + ")"
            self.stdout.write(f"{change.kind} {change.identifier}: {change.action}{detail}")
        self.stdout.write(report.summary() + (" (dry run)" if dry_run and report.ok else ""))
        if not report.ok:
            raise CommandError("nothing was imported: fix the errors above")

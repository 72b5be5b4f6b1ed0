"""Export Incoming/Outgoing configurations as JSON (secrets are never exported)."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from connections import portable
from connections.models import Incoming, Outgoing

from ._engine_cli import find


def _select(model, wanted: list[str] | None):
    """All configurations (None), or those named by id or identifier; unknown names are an error."""
    if wanted is None:
        return list(model.objects.select_related("client").order_by("identifier"))
    return [find(model, value) for value in wanted]


class Command(BaseCommand):
    help = "Export Incoming and Outgoing configurations to a JSON file (all of them unless some are named)."

    def add_arguments(self, parser):
        parser.add_argument("--incoming", nargs="+", metavar="ID", help="incoming configurations (id or identifier)")
        parser.add_argument("--outgoing", nargs="+", metavar="ID", help="outgoing configurations (id or identifier)")
        parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")

    def handle(self, *args, incoming=None, outgoing=None, output=None, **options):
        if incoming is None and outgoing is None:
            chosen_in, chosen_out = _select(Incoming, None), _select(Outgoing, None)
        else:
            chosen_in = _select(Incoming, incoming) if incoming else []
            chosen_out = _select(Outgoing, outgoing) if outgoing else []
        text = portable.dumps(portable.export_document(chosen_in, chosen_out))
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Exported {len(chosen_in)} incoming and {len(chosen_out)} outgoing to {output}")
        else:
            self.stdout.write(text, ending="")

"""Re-run every saved transformer example and fail when an output no longer matches.

Saved examples are regression tests written from the tester page ("Save as example"): run this in CI
(or before deploying a changed chain) to learn which transformers changed behaviour.
"""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from connections.models import TransformerExample
from connections.transformers import TransformError, apply_chain


def run_example(example: TransformerExample) -> tuple[bool, Any]:
    """(matches, what the chain gives now: a list of entities or an error text)."""
    entities = example.input if isinstance(example.input, list) else [example.input]
    try:
        got = [out for entity in entities for out in apply_chain(example.transformer.steps, entity)]
    except TransformError as exc:
        return False, f"error: {exc}"
    return got == example.output, got


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Command(BaseCommand):
    help = "Re-run every saved transformer example; exit non-zero listing those whose output changed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("identifiers", nargs="*", help="Only these transformers (identifiers).")

    def handle(self, *args: Any, identifiers: list[str], **options: Any) -> None:
        examples = TransformerExample.objects.select_related("transformer").order_by("transformer__name", "id")
        if identifiers:
            examples = examples.filter(transformer__identifier__in=identifiers)
        mismatches = []
        total = 0
        for example in examples.iterator():
            total += 1
            matches, got = run_example(example)
            if not matches:
                mismatches.append((example, got))
        for example, got in mismatches:
            self.stderr.write(
                f'MISMATCH transformer "{example.transformer.name}" ({example.transformer.identifier}), '
                f"example {example.pk}\n  input:    {_short(example.input)}\n"
                f"  expected: {_short(example.output)}\n  got:      {_short(got)}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} of {total} transformer example(s) no longer match.")
        self.stdout.write(self.style.SUCCESS(f"All {total} transformer example(s) match."))

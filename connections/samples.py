"""Entity samples shown on pages: Run test's first entities, Incoming.last_test, the tester's Load input.

A sample is for looking at, never published, so it may differ from the record in three ways:
- secrets are redacted as in the request log of the same exchange (values under credential
  names, and every secret value the HTTP Client holds), because a platform may echo them back;
- long texts, long lists and big objects are cut, saying how much was left out, so one record
  with a 15 MB string can't make a 15 MB page;
- values JSON can't hold (NaN, lone surrogates; see json_policy) are shown as text.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from clients.redaction import REDACTED, is_secret_name, redact_text

from . import files, json_policy

TEXT_LIMIT = 2_000  # characters of one text value
ITEMS_LIMIT = 100  # items of one list, keys of one object


def sample_of(record: Any, secrets: Iterable[str] = ()) -> Any:
    """A redacted, cut copy of `record` that can be stored and shown."""
    secrets = [s for s in secrets if s]
    return _cut(json_policy.displayable(record), secrets)


def _cut(value: Any, secrets: list[str]) -> Any:
    if files.is_file(value):
        # A file handed on as base64 (already capped at HTTP_MAX_FILE_BYTES) stays whole, so the
        # Run test can offer it as a download; pages show it shortened (connections.files).
        return value
    if isinstance(value, dict):
        out = {}
        for n, (key, sub) in enumerate(value.items()):
            if n == ITEMS_LIMIT:
                out["…"] = f"{len(value) - ITEMS_LIMIT:,} more keys not shown"
                break
            out[_text(key, secrets)] = REDACTED if is_secret_name(key) and sub not in (None, "") else _cut(sub, secrets)
        return out
    if isinstance(value, list):
        items = [_cut(sub, secrets) for sub in value[:ITEMS_LIMIT]]
        if len(value) > ITEMS_LIMIT:
            items.append(f"… {len(value) - ITEMS_LIMIT:,} more items not shown")
        return items
    if isinstance(value, str):
        return _text(value, secrets)
    if isinstance(value, int) and not isinstance(value, bool) and secrets and str(value) in secrets:
        return REDACTED
    return value


def _text(text: str, secrets: list[str]) -> str:
    # Redact before cutting, so a secret split by the cut can't survive half-visible.
    margin = max(map(len, secrets), default=0) * 3  # a secret's encoded forms are up to 3x longer
    text = redact_text(text[: TEXT_LIMIT + margin], secrets) if secrets else text
    if len(text) > TEXT_LIMIT:
        return text[:TEXT_LIMIT] + "… (cut)"
    return text

"""{{ entities|json_shown }} and {{ entities|files_described }}: entity data with files in it.

A file handed on as base64 (connections.files) is shortened in the JSON a page shows and
offered as a Download link instead.
"""
from __future__ import annotations

from typing import Any

from django import template

from connections import files, json_policy

register = template.Library()


@register.filter
def json_shown(value: Any) -> str:
    return json_policy.for_display(files.for_display(value))  # never breaks on surrogates or deep nesting


@register.filter
def files_described(value: Any) -> list[str]:
    return [files.describe(f) for f in files.files_in(value)]

"""``&{key}`` placeholders: values rendered from an entity."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .errors import _fail, _Problem
from .paths import Entity, _lookup

_PLACEHOLDER = re.compile(r"&\{([^{}]+)\}")


def _compile_template(template: Any) -> Callable[[Entity], Any] | None:
    """A renderer for a value with ``&{key}`` placeholders, or None when it holds none.

    A string that is exactly one placeholder keeps the value's type (``&{id}`` -> 42, not "42");
    placeholders inside longer text are formatted as text (objects and lists as JSON). Objects and
    lists are rendered item by item, so a whole payload can be one template.
    """
    if isinstance(template, str):
        if "&{" not in template:
            return None
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            key = whole.group(1).strip()
            return lambda entity: _lookup(entity, key)
        pieces: list[str | tuple[str]] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(template):
            pieces.append(template[pos:m.start()])
            pieces.append((m.group(1).strip(),))
            pos = m.end()
        pieces.append(template[pos:])

        def render_text(entity: Entity) -> str:
            out = []
            for piece in pieces:
                if type(piece) is str:
                    out.append(piece)
                else:
                    out.append(_as_text(_lookup(entity, piece[0])))
            return "".join(out)

        return render_text
    if isinstance(template, dict):
        parts = {k: (_compile_template(v), v) for k, v in template.items()}
        if all(r is None for r, _ in parts.values()):
            return None
        return lambda entity: {k: (r(entity) if r else v) for k, (r, v) in parts.items()}
    if isinstance(template, list):
        items = [(_compile_template(v), v) for v in template]
        if all(r is None for r, _ in items):
            return None
        return lambda entity: [(r(entity) if r else v) for r, v in items]
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render_template(template: Any, entity: Entity) -> Any:
    """Render ``&{key}`` placeholders in a value against an entity (see _compile_template)."""
    renderer = _compile_template(template)
    if renderer is None:
        return template
    try:
        return renderer(entity)
    except _Problem as exc:
        raise _fail(exc.key, exc.detail) from None


def template_keys(template: Any) -> list[str]:
    """The keys a template's placeholders read, in order."""
    if isinstance(template, str):
        return [m.group(1).strip() for m in _PLACEHOLDER.finditer(template)]
    if isinstance(template, dict):
        return [k for v in template.values() for k in template_keys(v)]
    if isinstance(template, list):
        return [k for v in template for k in template_keys(v)]
    return []

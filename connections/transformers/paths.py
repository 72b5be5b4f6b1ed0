"""Dotted keys: read, write (copy on write) and delete values inside an entity."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..json_policy import kind_of
from .errors import _Conflict, _fail, _Missing

Entity = dict[str, Any]

_MISSING = object()


@lru_cache(maxsize=4096)
def _parse(path: str) -> tuple[str, ...]:
    """Split a dotted key. Cached: a chain reads the same few keys millions of times."""
    return tuple(path.split("."))


def _index(seg: str) -> int | None:
    if seg.isdigit():
        return int(seg)
    return None


def _lookup(entity: Any, path: str) -> Any:
    """The value at a dotted path, or raise _Missing naming where the path stopped."""
    if "." not in path and type(entity) is dict:  # fast path for a top-level key
        value = entity.get(path, _MISSING)
        if value is not _MISSING:
            return value
    node = entity
    parts = _parse(path)
    for depth, seg in enumerate(parts):
        if type(node) is dict:
            value = node.get(seg, _MISSING)
            if value is _MISSING:
                where = ".".join(parts[:depth]) or "the entity"
                keys = ", ".join(sorted(map(str, node))[:12]) or "no keys"
                raise _Missing(path, f'"{seg}" is not in {where} (it has: {keys}).')
            node = value
        elif isinstance(node, list):
            idx = _index(seg)
            if idx is None:
                where = ".".join(parts[:depth])
                raise _Missing(path, f'"{where}" is a list; use a number to pick an item, not "{seg}".')
            if idx >= len(node):
                where = ".".join(parts[:depth])
                raise _Missing(path, f'"{where}" has {len(node)} item(s); there is no item {idx}.')
            node = node[idx]
        elif isinstance(node, dict):  # dict subclasses: slower path, same meaning
            if seg not in node:
                raise _Missing(path, f'"{seg}" is not in {".".join(parts[:depth]) or "the entity"}.')
            node = node[seg]
        else:
            where = ".".join(parts[:depth])
            raise _Missing(path, f'"{where}" holds {kind_of(node)}, so it has no "{seg}".')
    return node


def get_path(entity: Any, path: str, default: Any = _MISSING) -> Any:
    """Read a dotted key. Without ``default`` a missing key raises ``TransformError``."""
    try:
        return _lookup(entity, path)
    except _Missing as exc:
        if default is not _MISSING:
            return default
        raise _fail(path, exc.detail) from None


def _set_in(node: Any, parts: tuple[str, ...], i: int, value: Any, path: str) -> Any:
    """A copy of ``node`` with ``value`` at ``parts[i:]``; only the containers on the path are copied."""
    seg = parts[i]
    last = i == len(parts) - 1
    if isinstance(node, dict):
        new = dict(node)
        if last:
            new[seg] = value
        else:
            child = node.get(seg, _MISSING)
            if child is _MISSING or child is None:
                child = [] if _index(parts[i + 1]) == 0 else {}
            new[seg] = _set_in(child, parts, i + 1, value, path)
        return new
    if isinstance(node, list):
        idx = _index(seg)
        if idx is None or idx > len(node):
            where = ".".join(parts[:i])
            raise _Conflict(path, f'"{where}" is a list of {len(node)} item(s); write to an item number up to '
                                  f'{len(node)} (that number appends), not "{seg}".')
        new_list = list(node)
        if idx == len(node):
            new_list.append(None)
        if last:
            new_list[idx] = value
        else:
            child = new_list[idx]
            if child is None:
                child = [] if _index(parts[i + 1]) == 0 else {}
            new_list[idx] = _set_in(child, parts, i + 1, value, path)
        return new_list
    where = ".".join(parts[:i])
    raise _Conflict(path, f'"{where}" holds {kind_of(node)}, so "{seg}" cannot be written inside it. '
                          "Write to another key, or remove or overwrite that one first.")


def _set(entity: Entity, path: str, value: Any) -> Entity:
    if "." not in path and type(entity) is dict:  # the common top-level key: one shallow copy
        new = dict(entity)
        new[path] = value
        return new
    return _set_in(entity, _parse(path), 0, value, path)


def _delete(entity: Entity, path: str) -> Entity:
    """A copy without the key; raises _Missing when it is not there."""
    if "." not in path and type(entity) is dict and path in entity:
        new = dict(entity)
        del new[path]
        return new
    parts = _parse(path)

    def walk(node: Any, i: int) -> Any:
        seg = parts[i]
        last = i == len(parts) - 1
        if isinstance(node, dict):
            if seg not in node:
                raise _Missing(path, f'"{seg}" is not in {".".join(parts[:i]) or "the entity"}.')
            new = dict(node)
            if last:
                del new[seg]
            else:
                new[seg] = walk(node[seg], i + 1)
            return new
        if isinstance(node, list):
            idx = _index(seg)
            if idx is None or idx >= len(node):
                raise _Missing(path, f'"{".".join(parts[:i])}" has no item "{seg}".')
            new_list = list(node)
            if last:
                del new_list[idx]
            else:
                new_list[idx] = walk(node[idx], i + 1)
            return new_list
        raise _Missing(path, f'"{".".join(parts[:i])}" holds {kind_of(node)}, so it has no "{seg}".')

    return walk(entity, 0)

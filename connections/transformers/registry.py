"""The registry of transformer kinds: explicit, in the order the UI offers them.

Adding a kind: write its module (a ``KIND = Kind(...)``) and list it here. Nothing registers itself.
"""
from __future__ import annotations

from . import (
    cast,
    conditional,
    copy,
    filter,
    filter_previously_stored,
    get_branches,
    get_from_storage,
    http_request,
    key_mapper,
    merge_defaults,
    move,
    remove,
    save_to_storage,
    value_mapper,
    value_setter,
)
from .base import Kind

KINDS: dict[str, Kind] = {
    module.KIND.key: module.KIND
    for module in (
        value_setter,
        copy,
        move,
        remove,
        key_mapper,
        value_mapper,
        cast,
        filter,
        conditional,
        get_branches,
        merge_defaults,
        save_to_storage,
        get_from_storage,
        filter_previously_stored,
        http_request,
    )
}

"""The platform catalogs as Incoming and Outgoing configurations offer them: which entities a
Subscriber or Publisher offers, which Methods there are to pick, the entity search behind the
entity dropdown. Shared by the configuration forms, their views and the preview.
"""
from __future__ import annotations

from clients.platforms.base import Entity, Platform, UnknownEntity
from clients.platforms.registry import UnknownPlatform, get_platform

SUBSCRIBER = "subscriber"
PUBLISHER = "publisher"
ENTITY_OPTION_LIMIT = 50  # options rendered per search; ConnectWise alone has 3,000+ entities



def platform_or_none(slug: str | None) -> Platform | None:
    if not slug:
        return None
    try:
        return get_platform(slug)
    except UnknownPlatform:
        return None


def offers(entity: Entity, role: str) -> bool:
    """True when the platform's Subscriber (role "subscriber") or Publisher offers `entity`."""
    return entity.subscriber if role == SUBSCRIBER else entity.publisher


def method_choices(platform: Platform, role: str) -> list[str]:
    """The Methods a configuration of this role can pick on this platform."""
    if role == PUBLISHER:
        return list(platform.publisher_methods)
    seen = {e.method for e in platform.catalog if e.subscriber}
    # Reads first: GET, then POST (Timely reports, Copper searches).
    return sorted(seen, key=lambda m: (m != "GET", m))


def needs_method(platform: Platform | None, role: str) -> bool:
    """Publishers always pick a Method; Subscribers only where the platform puts it first."""
    if platform is None:
        return False
    return role == PUBLISHER or platform.method_first


def search_entities(
    platform: Platform, text: str, role: str, method: str | None = None, limit: int | None = None
) -> tuple[list[Entity], int]:
    """Entities matching `text` (every word, in name, group or path), at most `limit`, and the match count.

    Uses the catalog's own search when it has one, so the ranking is the platform layer's.
    """
    limit = ENTITY_OPTION_LIMIT if limit is None else limit
    catalog = platform.catalog
    text = (text or "").strip()
    method = method or None
    search = getattr(catalog, "search", None)
    if search is not None:
        matches = list(search(text, method=method, role=role))
    else:  # the catalog without a search of its own: a plain filter
        words = text.lower().split()
        matches = [
            e
            for e in catalog
            if offers(e, role)
            and (method is None or e.method == method)
            and not e.deprecated
            and all(w in f"{e.name} {e.group} {e.path}".lower() for w in words)
        ]
    return matches[:limit], len(matches)


def group_entities(entities: list[Entity]) -> list[tuple[str, list[Entity]]]:
    """Entities grouped by the API's section, groups in first-seen order."""
    groups: dict[str, list[Entity]] = {}
    for entity in entities:
        groups.setdefault(entity.group or "Other", []).append(entity)
    return list(groups.items())


def find_entity(platform: Platform, key_or_name: str) -> Entity | None:
    try:
        return platform.catalog.get(key_or_name)
    except UnknownEntity:
        return None

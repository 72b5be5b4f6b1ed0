"""The one list of platforms. Choices everywhere in the UI are built from it.

Explicit on purpose: adding a platform means importing its module here, nothing is discovered.
"""
from . import connectwise, copper, picqer, pipedrive, timely
from .base import Platform

PLATFORMS: dict[str, Platform] = {
    p.slug: p
    for p in (
        picqer.PLATFORM,
        pipedrive.PLATFORM,
        connectwise.PLATFORM,
        timely.PLATFORM,
        copper.PLATFORM,
    )
}


class UnknownPlatform(LookupError):
    pass


def get_platform(slug: str) -> Platform:
    try:
        return PLATFORMS[slug]
    except KeyError:
        valid = ", ".join(PLATFORMS)
        raise UnknownPlatform(f"unknown platform {slug!r}; valid platforms: {valid}") from None


def platform_choices() -> list[tuple[str, str]]:
    return [(p.slug, p.label) for p in PLATFORMS.values()]

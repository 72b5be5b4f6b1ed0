"""Register a webhook at the platform: create (and remove) the subscription through its API."""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOCAL_NAMES = ("localhost", "localhost.localdomain")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def public_url_problem(base_url: str) -> str:
    """Why platforms on the internet could not reach `base_url`, or "" when it looks public.

    Judged from the address alone (no DNS look-up in a page view): a loopback or private IP,
    or a name that only resolves on a local network.
    """
    host = (urlsplit(base_url).hostname or "").lower()
    if not host:
        return "PUBLIC_BASE_URL has no host name."
    if host in LOCAL_NAMES or host.endswith(LOCAL_SUFFIXES) or "." not in host and ":" not in host:
        return f"PUBLIC_BASE_URL ({base_url}) is a local name: platforms on the internet cannot reach it."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ""
    if address.is_loopback:
        return f"PUBLIC_BASE_URL ({base_url}) is a loopback address: platforms on the internet cannot reach it."
    if address.is_private or address.is_link_local or address.is_reserved or address.is_unspecified:
        return f"PUBLIC_BASE_URL ({base_url}) is a private address: platforms on the internet cannot reach it."
    return ""

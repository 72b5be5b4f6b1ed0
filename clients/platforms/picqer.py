"""Picqer: HTTP Basic with the API key as user name; bare-array lists paged by offset in steps of 100."""
from __future__ import annotations

import re
from collections.abc import Mapping

from .base import Field, Platform, RateLimit

PRODUCT = "alumio-lite/0.1"
# Characters that must not reach a header (CR/LF and other controls) or would end the comment.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f()]")


def user_agent(client_settings: Mapping[str, str]) -> dict[str, str]:
    """Picqer rejects requests without a User-Agent naming the application and a contact.

    The contact is the HTTP Client's "User-Agent contact", else PICQER_USER_AGENT_CONTACT,
    else PUBLIC_BASE_URL (the dashboard's own website), e.g. `alumio-lite/0.1 (ops@example.com)`.
    """
    from django.conf import settings

    contact = (
        client_settings.get("user_agent_contact")
        or getattr(settings, "PICQER_USER_AGENT_CONTACT", "")
        or getattr(settings, "PUBLIC_BASE_URL", "")
    )
    # Only printable ASCII travels safely in a header; a bad setting must not break every request.
    contact = " ".join(_UNSAFE.sub(" ", str(contact)).encode("ascii", "ignore").decode().split())
    return {"User-Agent": f"{PRODUCT} ({contact})" if contact else PRODUCT}


PLATFORM = Platform(
    slug="picqer",
    label="Picqer",
    fields=(
        Field(
            "base_uri",
            "Base URI",
            kind="url",
            default="https://{subdomain}.picqer.com/api/v1",
            help_text="Your Picqer account's API address, e.g. https://yourcompany.picqer.com/api/v1.",
            path_pattern=r"/api/v1",
            shape_hint="your Picqer address followed by /api/v1, e.g. https://yourcompany.picqer.com/api/v1",
        ),
        Field(
            "api_key",
            "API Key",
            secret=True,
            header_bound=True,
            help_text="Created in Picqer under Settings > API Keys. Sent as the Basic auth user name.",
        ),
        Field(
            "user_agent_contact",
            "User-Agent contact",
            required=False,
            header_bound=True,
            help_text="A website or e-mail address Picqer can reach you at; sent in the User-Agent header. "
            "Empty: the PICQER_USER_AGENT_CONTACT setting, else this dashboard's address.",
        ),
    ),
    auth="basic_key",
    publisher_methods=("POST", "PUT", "DELETE"),
    # Picqer answers 429 without a documented Retry-After; its own client waits 20 s.
    rate_limit=RateLimit(limit=500, window=60.0, limit_header="X-RateLimit-Limit",
                         remaining_header="X-RateLimit-Remaining", default_wait=20.0,
                         source="Picqer's documented limit: 500 requests a minute (it may lower it, "
                                "and says so in X-RateLimit-Limit)"),
    default_pagination="offset100",
    test_entity="GET /users/me",
    # Picqer rejects requests without a User-Agent naming the application and a contact.
    default_headers={"User-Agent": f"{PRODUCT} (self-hosted integration dashboard)"},
    client_headers=user_agent,
)

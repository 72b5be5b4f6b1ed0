"""A Content-Security-Policy on every page, and nothing in the templates that it would block."""
import re
from pathlib import Path

import pytest
from django.urls import reverse

from .test_role_crawl import crawl_urls

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def _policy(response) -> dict[str, str]:
    header = response.get("Content-Security-Policy", "")
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


@pytest.mark.django_db
def test_every_page_sends_the_policy(client, world, admin_user):
    client.force_login(admin_user)
    pages = 0
    for url, _name, _public in crawl_urls():
        response = client.get(url)
        if response.get("Content-Type", "").startswith("text/html") and response.status_code == 200:
            policy = _policy(response)
            assert policy.get("script-src") == "script-src 'self'", url
            assert policy.get("frame-ancestors") == "frame-ancestors 'none'", url
            assert "unsafe" not in policy.get("style-src", ""), url
            pages += 1
    assert pages > 20
    client.logout()
    assert _policy(client.get(reverse("login")))["script-src"] == "script-src 'self'"


def test_templates_have_no_inline_scripts_or_handlers():
    """Inline <script> and on*= attributes would be refused by the browser: use static/js and data-* instead."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        offenders += [f"{path.relative_to(TEMPLATES)}: {m.group(0)}" for m in INLINE_SCRIPT.finditer(text)]
        offenders += [f"{path.relative_to(TEMPLATES)}: on*= handler" for _ in HANDLER.finditer(text)]
    assert offenders == []

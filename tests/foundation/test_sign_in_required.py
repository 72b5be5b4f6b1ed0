"""Every URL the project defines sends an anonymous visitor to sign in; none shows a page."""
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Public on purpose, each for a stated reason.
PUBLIC = {
    "healthz": "container health check; answers only ok/unavailable",
}
# May answer an anonymous request directly, but only with a refusal (never a page).
REFUSING = {"oauth_callback", "intake"}  # intake: the webhook endpoint, authenticated by its validators


def all_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from all_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


def concrete(pattern: str) -> str:
    """Turn a route or regex into a URL by filling every parameter with a plausible value."""
    url = re.sub(r"<int:\w+>", "1", pattern)
    url = re.sub(r"<(?:slug|str|path|uuid):\w+>|<\w+>", "x", url)
    url = url.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")
    url = re.sub(r"\(\?P<\w+>[^)]*\)", "1", url)
    url = re.sub(r"\([^)]*\)[?*]?", "", url)
    return "/" + url.lstrip("/")


def test_the_crawl_covers_the_dashboard():
    names = {name for _, name in all_patterns()}
    assert {"home", "login", "logout"} <= names
    assert len(names) > 15


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_sign_in(client, method):
    checked = 0
    for pattern, name in all_patterns():
        url = concrete(pattern)
        if name in PUBLIC or name in ("login",):
            continue
        response = getattr(client, method)(url)
        checked += 1
        if name in REFUSING:
            assert response.status_code in (302, 400, 403, 404, 405), (url, response.status_code)
            continue
        if response.status_code == 302:
            location = response["Location"]
            assert location.startswith(("/accounts/login/", "/admin/login/")), (url, location)
        else:
            assert response.status_code in (403, 405), (url, response.status_code)
    assert checked > 15


@pytest.mark.django_db
def test_the_health_check_reveals_nothing(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}

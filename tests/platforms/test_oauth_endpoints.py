"""A platform's own OAuth endpoints are listed in its reference but are not data entities.

Pipedrive's "Requesting authorization", "Getting the tokens", "Refreshing the tokens" and
Timely's "OAuth Code", "OAuth Token" must not be offered by a Subscriber or Publisher, listed
by `manage.py entities`, or callable through `manage.py call` (which would send a Bearer
token and JSON to the token endpoint).
"""
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clients.platforms.base import UnknownEntity
from clients.platforms.registry import get_platform
from tests.configurations.conftest import make_client

OAUTH_ENDPOINTS = {
    "pipedrive": ("Requesting authorization", "Getting the tokens", "Refreshing the tokens"),
    "timely": ("OAuth Code", "OAuth Token"),
}


@pytest.mark.parametrize("slug", sorted(OAUTH_ENDPOINTS))
def test_the_catalog_keeps_them_out_of_every_list(slug):
    catalog = get_platform(slug).catalog
    names = set(OAUTH_ENDPOINTS[slug])
    assert {e.name for e in catalog.oauth_endpoints.values()} == names  # still known, flagged
    assert not names & {e.name for e in catalog}
    for role in (None, "subscriber", "publisher"):
        assert not names & {e.name for e in catalog.search("oauth", role=role)}
        assert not names & {e.name for e in catalog.search("token", role=role)}
    assert not names & {e.name for group in catalog.groups(include_deprecated=True).values() for e in group}
    for name in names:
        with pytest.raises(UnknownEntity, match="OAuth endpoint, not a data entity"):
            catalog.get(name)


@pytest.mark.parametrize("slug", sorted(OAUTH_ENDPOINTS))
def test_the_entities_command_does_not_list_them(slug):
    out = StringIO()
    call_command("entities", slug, "--json", "--include-deprecated", stdout=out)
    listed = {row["name"] for row in json.loads(out.getvalue())}
    assert listed and not set(OAUTH_ENDPOINTS[slug]) & listed


@pytest.mark.django_db
def test_the_call_command_refuses_them_before_sending_anything():
    make_client("pipedrive", "pd", settings={"base_uri": "http://127.0.0.1:9/api", "auth_type": "api_token"},
                secrets={"api_token": "pd-token-123456"})
    with pytest.raises(CommandError, match="Getting the tokens.*OAuth endpoint, not a data entity"):
        call_command("call", "pd", "Getting the tokens", stdout=StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize("kind,method", [("incoming", "GET"), ("outgoing", "POST")])
@pytest.mark.parametrize("slug,text", [("pipedrive", "oauth"), ("pipedrive", "token"), ("timely", "oauth")])
def test_the_entity_dropdowns_do_not_offer_them(signed_in, kind, method, slug, text):
    page = signed_in.get(
        f"/connections/{kind}/entities/", {"platform": slug, "method": method, "entity_q": text}
    ).content.decode()
    for name in OAUTH_ENDPOINTS[slug]:
        assert f">{name} ·" not in page

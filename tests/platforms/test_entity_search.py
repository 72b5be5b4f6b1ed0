"""Entity search finds what the platforms' documentation calls a thing (ranked, fuzzy, fast enough)."""
from __future__ import annotations

import pytest

from clients.entity_search import short_name, words
from clients.platforms.registry import get_platform


def _keys(found) -> list[str]:
    return [e.key for e in found]


@pytest.mark.parametrize(("platform", "title", "key"), [
    # Titles as the API references write them, "Group - Name" form included.
    ("pipedrive", "Users - Get one user", "GET /v1/users/{id}"),
    ("pipedrive", "Users - Update user details", "PUT /v1/users/{id}"),
    ("connectwise", "AddressFormats - Get AddressFormat by id", "GET /company/addressFormats/{id}"),
    ("connectwise", "Tickets - Get Ticket by id", "GET /service/tickets/{id}"),
    # Apostrophe, and an entity of the old v1 docs: its current replacement is found.
    ("pipedrive", "See a Person's Activities", "GET /v2/activities"),
    ("pipedrive", "See a Persons Activities", "GET /v2/activities"),
    # Small typos and a missing plural.
    ("connectwise", "Adress Formats - Get AdressFormat", "GET /company/addressFormats/{id}"),
    ("pipedrive", "Update user detials", "PUT /v1/users/{id}"),
])
def test_documented_titles_find_their_entity_first(platform, title, key):
    found = get_platform(platform).catalog.search(title)
    assert _keys(found)[:1] == [key], _keys(found)[:5]


def test_group_and_name_titles_rank_near_the_top():
    catalog = get_platform("connectwise").catalog
    found = _keys(catalog.search("Companies - Get Company", role="subscriber"))
    assert "GET /company/companies/{id}" in found[:3], found[:5]


def test_typing_in_progress_finds_the_shortest_completion_first():
    catalog = get_platform("connectwise").catalog
    first = catalog.search("tic")[0]
    assert first.group == "Tickets", first.name


def test_filters_still_apply_to_ranked_results():
    catalog = get_platform("pipedrive").catalog
    found = catalog.search("Users - user details", method="PUT")
    assert found and all(e.method == "PUT" for e in found)
    assert found[0].key == "PUT /v1/users/{id}"
    assert all(e.is_read for e in catalog.search("person", role="subscriber"))
    # The v1 entity itself is there when deprecated entities are asked for.
    with_old = _keys(catalog.search("List activities associated with a person", include_deprecated=True))
    assert with_old[0] == "GET /v1/persons/{id}/activities"


def test_unrelated_text_finds_nothing():
    catalog = get_platform("connectwise").catalog
    assert catalog.search("zzz no match") == []
    assert catalog.search("qwxz plokij") == []


def test_words_and_names_are_normalised():
    assert words("See a Person's   Activities - (v2)") == ["see", "a", "persons", "activities", "v2"]
    assert short_name("Companies - Get ConnectWise.Apis.v3_0.v2015_3.Company.Company.Company "
                      "(GET /company/companies/{id})") == "Companies - Get Company"

"""Every reference entry has a catalog entry; keys, pagination names, deprecations hold."""
import json
from collections import Counter

import pytest

from clients.platforms import importers
from clients.platforms.base import CATALOG_DIR, Catalog
from clients.platforms.registry import PLATFORMS, get_platform

SOURCES = importers.SOURCES_DIR
PAGINATION_NAMES = {
    "offset100", "pipedrive_start", "pipedrive_cursor", "connectwise_page", "timely_page", "timely_offset",
    "copper_search", "timely_body_offset",
}
EXPECTED_COUNTS = {
    ("picqer", "entities.json"): 193,
    ("pipedrive", "entities.json"): 275,
    ("pipedrive", "entities_v2.json"): 158,
    ("connectwise", "entities.json"): 3063,
    ("timely", "entities.json"): 66,
    ("copper", "entities.json"): 83,
}


def expected_path(slug: str, filename: str, entry: dict) -> str:
    """Where a reference entry's path lands in the catalog (Pipedrive keeps its version in the path)."""
    if slug == "pipedrive" and not entry.get("base_url_override"):
        return ("/v2" if filename == "entities_v2.json" else "/v1") + entry["path"]
    return entry["path"]


@pytest.mark.parametrize("slug,filename", sorted(EXPECTED_COUNTS))
def test_every_reference_entry_has_a_catalog_entry(slug, filename):
    reference = json.loads((SOURCES / slug / filename).read_text())
    catalog = get_platform(slug).catalog
    # The OAuth endpoints are kept (flagged), just out of the catalog's lists.
    index = Counter((e.method, e.path, e.name) for e in [*catalog, *catalog.oauth_endpoints.values()])
    wanted = Counter((r["method"], expected_path(slug, filename, r), r["name"].strip()) for r in reference)
    missing = wanted - index
    print(f"\n{slug}/{filename}: {len(reference)} reference entries, {len(catalog)} in the catalog")
    assert not missing, f"missing from the {slug} catalog: {list(missing)[:5]}"
    assert len(reference) == EXPECTED_COUNTS[(slug, filename)]


def test_catalog_sizes():
    sizes = {slug: len(p.catalog) for slug, p in PLATFORMS.items()}
    print(f"\ncatalog sizes: {sizes}")
    assert sizes == {"picqer": 193, "pipedrive": 430, "connectwise": 3063, "timely": 64, "copper": 83}


@pytest.mark.parametrize("slug", list(PLATFORMS))
def test_keys_unique_and_well_formed(slug):
    catalog = get_platform(slug).catalog
    keys = [e.key for e in catalog]
    assert len(keys) == len(set(keys))
    for e in catalog:
        assert e.key.startswith(f"{e.method} {e.path}"), e.key
        assert e.method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        assert e.path.startswith("/")
        assert all("{" + p + "}" in e.path for p in e.path_params)
        assert catalog.get(e.key) is e


@pytest.mark.parametrize("slug", list(PLATFORMS))
def test_pagination_names_are_the_agreed_ones(slug):
    for e in get_platform(slug).catalog:
        if e.paginated:
            assert e.pagination in PAGINATION_NAMES, e.key
            assert e.is_read, f"{e.key} pages but is not a read"
        else:
            assert e.pagination is None, e.key


@pytest.mark.parametrize("slug", list(PLATFORMS))
def test_committed_catalog_is_what_the_sources_build(slug):
    """Someone edited sources/ or the importer without running build_catalogs."""
    built = importers.build_catalog(slug)
    committed = json.loads((CATALOG_DIR / f"{slug}.json").read_text())
    assert committed == json.loads(json.dumps(built))


def test_pipedrive_versions_live_in_the_path():
    catalog = get_platform("pipedrive").catalog
    assert catalog.get("GET /v1/users/{id}").name == "Get one user"
    assert catalog.get("GET /v2/deals").pagination == "pipedrive_cursor"
    assert catalog.get("GET /v1/notes").pagination == "pipedrive_start"
    assert catalog.oauth_endpoints["POST /oauth/token"].extras["base_url"] == "https://oauth.pipedrive.com"


def test_pipedrive_deprecated_entries_point_at_current_ones():
    catalog = get_platform("pipedrive").catalog
    removed = [e for e in catalog if e.extras.get("in_current_spec") is False]
    assert len(removed) == 62
    for e in removed:
        assert e.deprecated and e.replacement, e.key
        target = catalog.get(e.replacement)
        assert not target.deprecated
        assert target.key.startswith(f"{target.method} /v2/") or e.key == "DELETE /v1/activityTypes"
    # The v1 "Get all deals" is gone; v2 replaces it.
    assert catalog.get("GET /v1/deals").replacement == "GET /v2/deals"


def test_deprecated_hidden_from_search_unless_asked():
    catalog = get_platform("pipedrive").catalog
    default = catalog.search("deals")
    assert default and not any(e.deprecated for e in default)
    assert "GET /v1/deals" not in {e.key for e in default}
    assert "GET /v1/deals" in {e.key for e in catalog.search("deals", include_deprecated=True)}
    assert not any(e.deprecated for group in catalog.groups().values() for e in group)


def test_search_filters_and_ranks():
    catalog = get_platform("connectwise").catalog
    found = catalog.search("addressformats get", method="get")
    assert found and all(e.method == "GET" for e in found)
    # Ranked, fuzzy search: the best matches carry the word (a near word may follow them).
    assert all("addressformats" in f"{e.name} {e.path}".lower() for e in found[:5])
    assert found[0].name.lower().startswith("addressformats")
    assert "get" in found[0].name.lower()
    # A name hit outranks a hit on the path alone.
    names_first = catalog.search("AddressFormat")
    assert "addressformat" in names_first[0].name.lower()
    assert len(catalog.search("ticket", limit=5)) == 5
    assert catalog.search("no such entity anywhere") == []
    publishers = catalog.search("ticket", role="publisher")
    assert publishers and all(e.method != "GET" for e in publishers)
    with pytest.raises(ValueError):
        catalog.search("x", role="reader")


def test_reads_via_post_are_subscriber_entities():
    copper = get_platform("copper").catalog
    search = copper.get("List Companies (Search)")
    assert (search.method, search.read_via_post, search.pagination) == ("POST", True, "copper_search")
    assert search.subscriber and not search.publisher
    assert search in copper.search("companies", role="subscriber")
    assert not copper.get("Create a New Activity").read_via_post  # a write, whatever the reference says
    timely = get_platform("timely").catalog
    assert timely.get("All Reports").read_via_post and timely.get("All Reports").subscriber
    assert timely.get("List all events").pagination == "timely_page"
    assert timely.get("List all clients").pagination == "timely_offset"


def test_shared_method_and_path_get_distinct_keys():
    timely = get_platform("timely").catalog
    bulk = [e for e in timely if e.path == "/1.1/{account_id}/bulk/events"]
    assert len(bulk) == 3 and len({e.key for e in bulk}) == 3
    assert timely.get("GET /1.1/{account_id}/labels").name == "List all labels"
    assert timely.get("GET /1.1/{account_id}/labels [List all child labels]").name == "List all child labels"


def test_groups_keep_catalog_order():
    groups = get_platform("picqer").catalog.groups()
    assert next(iter(groups)) == "Customers"
    assert sum(len(v) for v in groups.values()) == len([e for e in get_platform("picqer").catalog if not e.deprecated])


def test_catalog_load_of_a_missing_file_is_empty(tmp_path):
    assert len(Catalog.load(tmp_path / "nope.json")) == 0


@pytest.mark.parametrize("slug", list(PLATFORMS))
def test_replacements_point_at_current_entities(slug):
    catalog = get_platform(slug).catalog
    for e in catalog:
        if e.replacement:
            assert e.deprecated, e.key
            assert e.replacement in catalog and not catalog.get(e.replacement).deprecated, e.key


def test_picqer_old_receipts_point_at_the_new_ones():
    catalog = get_platform("picqer").catalog
    assert catalog.get("Get receipts of purchase order (old receipts API)").replacement == "GET /receipts"


def test_a_shared_name_means_the_current_entity():
    catalog = get_platform("pipedrive").catalog
    assert catalog.get("Update an activity").key == "PATCH /v2/activities/{id}"
    assert catalog.get("Get all activity fields").key == "GET /v2/activityFields"  # both current: v2
    assert catalog.get("Get one user").key == "GET /v1/users/{id}"  # only v1 has users

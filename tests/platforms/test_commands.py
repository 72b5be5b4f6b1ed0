"""The entities and build_catalogs commands, as a user runs them."""
import json
import shutil

import pytest
from django.core.management import CommandError, call_command

from clients.platforms import importers
from clients.platforms.base import Catalog


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_entities_json_is_one_parseable_array():
    rows = json.loads(run("entities", "connectwise", "--search", "addressformats", "--method", "get", "--json"))
    assert rows and all(r["method"] == "GET" for r in rows)
    for r in rows:
        assert {"key", "name", "group", "method", "path", "path_params", "paginated"} <= set(r)
    get_one = next(r for r in rows if r["name"] == "AddressFormats - Get AddressFormat")
    assert get_one["path"] == "/company/addressFormats/{id}" and get_one["path_params"] == ["id"]


def test_entities_hides_deprecated_unless_asked():
    plain = {r["key"] for r in json.loads(run("entities", "pipedrive", "--json"))}
    everything = {r["key"] for r in json.loads(run("entities", "pipedrive", "--json", "--include-deprecated"))}
    assert "GET /v1/deals" not in plain and "GET /v1/deals" in everything
    # 433 operations, less the three OAuth endpoints (see test_oauth_endpoints_are_not_entities)
    assert len(everything) == 430 and len(plain) == 430 - 79


def test_entities_table():
    out = run("entities", "picqer", "--search", "single customer")
    assert "Get single customer" in out and "/customers/{idcustomer}" in out
    assert out.strip().splitlines()[-1].endswith("entities")


def test_entities_unknown_platform_lists_the_valid_ones():
    with pytest.raises(CommandError, match="valid platforms: picqer, pipedrive, connectwise, timely, copper"):
        run("entities", "shopify")


def test_entities_unknown_platform_exits_non_zero():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "manage.py", "entities", "shopify"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "picqer" in done.stderr


def test_entities_bad_method():
    with pytest.raises(CommandError, match="unknown method"):
        run("entities", "picqer", "--method", "FETCH")


def test_build_catalogs_from_a_newer_reference(tmp_path):
    newer = tmp_path / "reference"
    shutil.copytree(importers.SOURCES_DIR / "timely", newer / "timely")
    entries = json.loads((newer / "timely" / "entities.json").read_text())
    entries.append({
        "name": "List all widgets", "group": "Widgets", "method": "GET", "path": "/1.1/{account_id}/widgets",
        "path_params": ["account_id"], "query_params": [], "has_body": False, "paginated": True,
        "pagination": "page/per_page query params",
    })
    (newer / "timely" / "entities.json").write_text(json.dumps(entries))
    out_dir = tmp_path / "catalogs"
    out = run("build_catalogs", "timely", "--from", str(newer), "--output-dir", str(out_dir))
    assert "timely: 67 entities" in out
    widgets = Catalog.load(out_dir / "timely.json").get("List all widgets")
    assert widgets.pagination == "timely_page" and widgets.path_params == ("account_id",)


def test_build_catalogs_refuses_a_broken_source(tmp_path):
    (tmp_path / "copper").mkdir()
    (tmp_path / "copper" / "entities.json").write_text('[{"name": "x"}]')
    with pytest.raises(CommandError, match="lacks method, path"):
        run("build_catalogs", "copper", "--from", str(tmp_path), "--output-dir", str(tmp_path / "out"))
    assert not (tmp_path / "out" / "copper.json").exists()


def test_build_catalogs_unknown_platform(tmp_path):
    with pytest.raises(CommandError, match="valid platforms"):
        run("build_catalogs", "shopify", "--output-dir", str(tmp_path))


def test_entities_by_role():
    reads = json.loads(run("entities", "copper", "--role", "subscriber", "--json"))
    assert {"List Companies (Search)", "Fetch Account Details"} <= {r["name"] for r in reads}
    assert all(r["method"] == "GET" or r["read_via_post"] for r in reads)
    writes = json.loads(run("entities", "copper", "--role", "publisher", "--json"))
    assert "Create a New Company" in {r["name"] for r in writes}
    assert not any(r["read_via_post"] or r["method"] == "GET" for r in writes)

"""Any OpenAPI 3 document becomes catalog rows: summary, tag, params, body, a paging guess."""
import json

import pytest
import yaml
from django.core.management import CommandError, call_command

from clients.platforms.base import Catalog
from clients.platforms.importers import write_catalog
from clients.platforms.openapi import OpenAPIError, entities_from_openapi, load_document

SPEC = """
openapi: 3.0.1
info: {title: Bakery, version: "1"}
components:
  parameters:
    Limit: {name: limit, in: query, schema: {type: integer}}
paths:
  /loaves:
    get:
      summary: Get all loaves
      tags: [Loaves]
      operationId: getLoaves
      x-token-cost: 20
      parameters:
        - {name: start, in: query, schema: {type: integer}}
        - $ref: '#/components/parameters/Limit'
        - {name: crust, in: query, required: true, schema: {type: string}}
    post:
      summary: Bake a loaf
      tags: [Loaves]
      requestBody: {content: {application/json: {schema: {type: object}}}}
  /loaves/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
    get:
      summary: Get one loaf
      tags: [Loaves]
    delete:
      tags: [Loaves]
      operationId: deleteLoaf
      deprecated: true
  /ovens:
    get:
      summary: Get ovens
      parameters:
        - {name: cursor, in: query, schema: {type: string}}
"""


def test_operations_become_rows():
    rows = entities_from_openapi(yaml.safe_load(SPEC), path_prefix="v1", strategies={"offset": "pipedrive_start"})
    by_key = {r["key"]: r for r in rows}
    assert list(by_key) == [
        "GET /v1/loaves", "POST /v1/loaves", "GET /v1/loaves/{id}", "DELETE /v1/loaves/{id}", "GET /v1/ovens",
    ]
    loaves = by_key["GET /v1/loaves"]
    assert (loaves["name"], loaves["group"]) == ("Get all loaves", "Loaves")
    assert loaves["query_params"] == [
        {"name": "start", "required": False, "type": "integer"},
        {"name": "limit", "required": False, "type": "integer"},
        {"name": "crust", "required": True, "type": "string"},
    ]
    assert loaves["paginated"] and loaves["pagination"] == "pipedrive_start"
    assert loaves["extras"] == {"operation_id": "getLoaves", "token_cost": 20, "paging_style": "offset"}
    assert by_key["POST /v1/loaves"]["has_body"] and not by_key["POST /v1/loaves"]["paginated"]
    assert by_key["GET /v1/loaves/{id}"]["path_params"] == ["id"]
    delete = by_key["DELETE /v1/loaves/{id}"]
    assert delete["name"] == "deleteLoaf" and delete["deprecated"]
    ovens = by_key["GET /v1/ovens"]
    assert ovens["group"] == "Other" and ovens["paginated"] and ovens["pagination"] is None  # style not mapped


def test_rows_load_as_a_catalog(tmp_path):
    rows = entities_from_openapi(yaml.safe_load(SPEC))
    write_catalog({"platform": "bakery", "generated_from": {}, "entities": rows}, tmp_path / "bakery.json")
    catalog = Catalog.load(tmp_path / "bakery.json")
    assert len(catalog) == 5
    assert catalog.get("Get one loaf").path_params == ("id",)


@pytest.mark.parametrize("doc", [{"swagger": "2.0", "paths": {}}, {"openapi": "3.0.0"}, ["not", "a", "dict"]])
def test_not_openapi_3_is_refused(doc):
    with pytest.raises(OpenAPIError):
        entities_from_openapi(doc)


def test_bad_yaml_is_a_clear_error(tmp_path):
    bad = tmp_path / "spec.yaml"
    bad.write_text("openapi: [3.0\n  paths: {")
    with pytest.raises(OpenAPIError, match="not valid YAML"):
        load_document(bad)


def test_build_catalogs_from_openapi(tmp_path, capsys):
    v1 = tmp_path / "v1.yaml"
    v1.write_text(SPEC)
    v2 = tmp_path / "v2.json"
    v2.write_text(json.dumps(yaml.safe_load(SPEC)))
    out = tmp_path / "out" / "pipedrive.json"
    call_command(
        "build_catalogs", platform="pipedrive", openapi=[f"{v1}=/v1", f"{v2}=/v2"], output=str(out),
    )
    assert "10 entities from OpenAPI" in capsys.readouterr().out
    catalog = Catalog.load(out)
    assert catalog.get("GET /v2/loaves").pagination == "pipedrive_start"
    assert catalog.get("GET /v1/loaves/{id}").name == "Get one loaf"


def test_build_catalogs_openapi_needs_a_platform(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    with pytest.raises(CommandError, match="--platform"):
        call_command("build_catalogs", openapi=[str(spec)], output=str(tmp_path / "x.json"))

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


# Shaped like Pipedrive's official v1 document: OAuth operations name their own server, files
# are uploaded as multipart or described with a form, and a download answers with bytes.
PIPEDRIVE_LIKE = """
openapi: 3.0.1
info: {title: Pipedrive API v1, version: 1.0.0}
servers: [{url: "https://api.pipedrive.com/v1"}]
paths:
  /oauth/token:
    post:
      summary: Getting the tokens
      tags: [Oauth]
      servers: [{url: "https://oauth.pipedrive.com"}]
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema: {type: object, properties: {grant_type: {type: string}, code: {type: string}}}
      responses: {"200": {content: {application/json: {schema: {type: object}}}}}
  /oauth/authorize:
    servers: [{url: "https://oauth.pipedrive.com/"}]
    get:
      summary: Requesting authorization
      tags: [Oauth]
      responses: {"200": {content: {text/html: {schema: {type: string}}}}}
  /files:
    post:
      summary: Add file
      tags: [Files]
      requestBody:
        content:
          multipart/form-data:
            schema:
              $ref: '#/components/schemas/AddFile'
      responses: {"200": {content: {application/json: {schema: {type: object}}}}}
  /files/{id}:
    put:
      summary: Update file details
      tags: [Files]
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema: {type: object, properties: {name: {type: string}, description: {type: string}}}
  /files/{id}/download:
    get:
      summary: Download one file
      tags: [Files]
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {"200": {content: {application/octet-stream: {schema: {type: string, format: binary}}}}}
components:
  schemas:
    AddFile:
      required: [file]
      allOf:
        - type: object
          properties:
            deal_id: {type: integer}
        - type: object
          properties:
            file: {type: string, format: binary}
"""


def test_operations_with_their_own_server_keep_it_and_their_plain_path(tmp_path):
    spec = tmp_path / "openapi.yaml"
    spec.write_text(PIPEDRIVE_LIKE)
    out = tmp_path / "pipedrive.json"
    call_command("build_catalogs", platform="pipedrive", openapi=[f"{spec}=/v1"], output=str(out))
    rows = {r["key"]: r for r in json.loads(out.read_text())["entities"]}
    assert "POST /v1/oauth/token" not in rows and "GET /v1/oauth/authorize" not in rows
    token, authorize = rows["POST /oauth/token"], rows["GET /oauth/authorize"]
    assert token["extras"]["base_url"] == "https://oauth.pipedrive.com"
    assert authorize["extras"]["base_url"] == "https://oauth.pipedrive.com"  # path-level server, slash dropped
    # They are the platform's OAuth endpoints: flagged, so no list offers them.
    assert token["oauth_endpoint"] and authorize["oauth_endpoint"]
    assert not rows["POST /v1/files"]["oauth_endpoint"]
    assert "base_url" not in rows["POST /v1/files"]["extras"]


def test_request_and_response_media_types_come_from_the_document():
    rows = {r["key"]: r for r in entities_from_openapi(yaml.safe_load(PIPEDRIVE_LIKE), path_prefix="/v1")}
    add = rows["POST /v1/files"]
    assert add["content_type"] == "multipart/form-data"
    assert add["body_fields"] == [
        {"name": "file", "required": True, "type": "file"},
        {"name": "deal_id", "required": False, "type": "integer"},
    ]
    assert rows["PUT /v1/files/{id}"]["content_type"] == "application/x-www-form-urlencoded"
    assert rows["GET /v1/files/{id}/download"]["response_type"] == "application/octet-stream"
    assert rows["GET /v1/files/{id}/download"]["content_type"] is None
    assert rows["POST /v1/files"]["response_type"] == "application/json"

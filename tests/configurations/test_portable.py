"""Export/import of configurations: no secrets, clients by identifier, dry run, all or nothing, CLI."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from connections import portable
from connections.models import Incoming, IncomingTransformer, Outgoing

from .conftest import make_client, make_incoming, make_outgoing, make_transformer

pytestmark = pytest.mark.django_db


@pytest.fixture
def configured():
    picqer = make_client("picqer", secrets={"api_key": "picqer-very-secret-key"})
    copper = make_client("copper", secrets={"access_token": "copper-very-secret-key"})
    incoming = make_incoming(
        picqer, "Get single customer", {"path": {"idcustomer": 89338142}}, identifier="cust", pagination=True
    )
    setter = make_transformer("Mark", [{"kind": "value_setter", "settings": {"key": "query.x", "value": 1}}])
    IncomingTransformer.objects.create(incoming=incoming, transformer=setter, stage="input", position=0)
    outgoing = make_outgoing(copper, "Create a New Company", identifier="companies", payload={"name": "Acme"})
    return incoming, outgoing


def test_export_holds_no_secret_and_names_clients_by_identifier(signed_in, configured):
    text = signed_in.get(reverse("connections:incoming_export")).content.decode()
    document = json.loads(text)
    assert document["incoming"][0]["client"] == "picqer-main"
    assert document["incoming"][0]["input_transformers"] == ["mark"]
    assert document["incoming"][0]["request_parameters"] == {"path": {"idcustomer": 89338142}}
    assert "picqer-very-secret-key" not in text
    out = json.loads(signed_in.get(reverse("connections:outgoing_export"), {"id": configured[1].pk}).content)
    assert [o["identifier"] for o in out["outgoing"]] == ["companies"] and out["incoming"] == []
    assert "copper-very-secret-key" not in json.dumps(out)


def test_round_trip_dry_run_then_apply(configured):
    document = portable.export_document(Incoming.objects.all(), Outgoing.objects.all())
    assert [c.action for c in portable.import_document(document, dry_run=True).changes] == ["unchanged", "unchanged"]
    document["incoming"][0]["pagination"] = False
    document["incoming"].append({**document["incoming"][0], "identifier": "cust-2", "name": "Second"})
    report = portable.import_document(document, dry_run=True)
    assert [(c.identifier, c.action) for c in report.changes] == [
        ("cust", "update"),
        ("cust-2", "create"),
        ("companies", "unchanged"),
    ]
    assert report.changes[0].changed_fields == ["pagination"]
    assert Incoming.objects.count() == 1 and Incoming.objects.get().pagination  # dry run changed nothing
    report = portable.import_document(document)
    assert report.applied
    assert Incoming.objects.count() == 2 and not Incoming.objects.get(identifier="cust").pagination
    copy = Incoming.objects.get(identifier="cust-2")
    assert [r.transformer.identifier for r in IncomingTransformer.objects.filter(incoming=copy)] == ["mark"]


def test_unknown_client_or_invalid_entry_writes_nothing(configured):
    document = portable.export_document(Incoming.objects.all(), Outgoing.objects.all())
    document["incoming"].append({**document["incoming"][0], "identifier": "new-one", "client": "nowhere"})
    document["outgoing"][0]["payload"] = {"name": "Changed"}
    document["outgoing"].append({**document["outgoing"][0], "identifier": "bad", "entity": "GET /companies/{id}"})
    report = portable.import_document(document)
    assert not report.applied and not report.ok
    errors = {c.identifier: c.errors for c in report.changes}
    assert errors["new-one"] == ["unknown HTTP Client “nowhere”: create it first (secrets are never exported)"]
    assert errors["bad"] and "not offered by the Copper Publisher" in errors["bad"][0]
    assert Outgoing.objects.get().payload == {"name": "Acme"}  # the valid update was not applied either
    assert not Incoming.objects.filter(identifier="new-one").exists()


def test_import_page_dry_run_and_apply(signed_in, configured):
    document = portable.export_document(Incoming.objects.all(), [])
    document["incoming"][0]["identifier"] = "from-file"
    upload = lambda: SimpleUploadedFile("c.json", json.dumps(document).encode(), "application/json")  # noqa: E731
    page = signed_in.post(reverse("connections:incoming_import"), {"file": upload(), "dry_run": "on"})
    assert "Would import: 1 create" in page.content.decode()
    assert not Incoming.objects.filter(identifier="from-file").exists()
    page = signed_in.post(reverse("connections:incoming_import"), {"file": upload()})
    assert "Imported: 1 create" in page.content.decode()
    assert Incoming.objects.filter(identifier="from-file").exists()
    bad = signed_in.post(reverse("connections:incoming_import"), {"file": SimpleUploadedFile("x.json", b"{nope")})
    assert "invalid JSON at line 1, column 2" in bad.content.decode()


def test_cli_export_and_import(configured, tmp_path):
    target = tmp_path / "export.json"
    call_command("export_config", "--incoming", "cust", "-o", str(target), stderr=StringIO())
    document = json.loads(target.read_text())
    assert [i["identifier"] for i in document["incoming"]] == ["cust"] and document["outgoing"] == []
    document["incoming"][0]["identifier"] = "cli-copy"
    target.write_text(json.dumps(document))
    out = StringIO()
    call_command("import_config", str(target), "--dry-run", stdout=out)
    assert "incoming cli-copy: create" in out.getvalue()
    assert not Incoming.objects.filter(identifier="cli-copy").exists()
    call_command("import_config", str(target), stdout=StringIO())
    assert Incoming.objects.filter(identifier="cli-copy").exists()
    document["incoming"][0]["client"] = "missing-client"
    target.write_text(json.dumps(document))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_config", str(target), stdout=StringIO())
    with pytest.raises(CommandError, match="no Incoming configuration with id or identifier 'nope'"):
        call_command("export_config", "--incoming", "nope", stdout=StringIO())

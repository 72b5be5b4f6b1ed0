"""Export/import of webhooks: settings and validators travel with their Webhook subscriber; secrets never do."""
from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from connections import portable
from connections.models import Incoming
from webhooks.models import Webhook

from .conftest import SECRET, make_webhook


def webhook_incoming(identifier: str = "pushed-orders") -> Incoming:
    return Incoming.objects.create(name="Pushed orders", identifier=identifier, platform="webhook",
                                   parser={"format": "xml", "path": "orders.order", "delimiter": ","})


def test_export_has_no_secret_and_brings_the_incoming(signed_in):
    webhook = make_webhook("pipedrive", webhook_incoming())
    webhook.registration = {"subscriptions": [{"id": "9", "events": ["create.deal"]}]}
    webhook.save()

    response = signed_in.get(f"/connections/webhooks/export/?id={webhook.pk}")

    text = response.content.decode()
    assert response["Content-Disposition"] == 'attachment; filename="webhook-pipedrive-events.json"'
    assert SECRET not in text and "subscriptions" not in text
    document = json.loads(text)
    assert document["webhooks"][0]["validators"]["basic"]["username"] == webhook.validators["basic"]["username"]
    assert document["webhooks"][0]["incomings"] == ["pushed-orders"]
    assert document["incoming"][0]["parser"] == {"format": "xml", "path": "orders.order", "delimiter": ","}
    assert document["incoming"][0]["client"] == ""


def test_import_into_an_empty_installation_and_again(signed_in):
    webhook = make_webhook("picqer", webhook_incoming())
    document = portable.export_document(incoming=[webhook.incomings.get()], webhooks=[webhook])
    Webhook.objects.all().delete()
    Incoming.objects.all().delete()

    page = signed_in.post("/connections/webhooks/import/", {"file": SimpleUploadedFile(
        "hooks.json", portable.dumps(document).encode())}, follow=True).content.decode()

    assert "Imported: 2 create" in page
    imported = Webhook.objects.get()
    assert imported.validators["hmac"]["header"] == "X-Picqer-Signature" and imported.secrets == {}
    assert imported.incomings.get().parser["path"] == "orders.order"
    # Entered after the import, a secret survives importing the same file again.
    imported.secrets = {"hmac": SECRET}
    imported.save()
    report = portable.import_document(portable.loads(portable.dumps(document)))
    assert report.ok and report.count("unchanged") == 2
    assert Webhook.objects.get().secrets == {"hmac": SECRET}


def test_import_names_an_unknown_incoming(db):
    document = {"format": portable.FORMAT, "version": portable.VERSION, "incoming": [], "outgoing": [],
                "webhooks": [{"identifier": "x", "name": "X", "incomings": ["nowhere"], "validators": {}}]}
    report = portable.import_document(document)
    assert not report.ok and "unknown Incoming configuration “nowhere”" in report.changes[0].errors[0]
    assert not Webhook.objects.exists()

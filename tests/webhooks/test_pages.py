"""Webhook pages: the form and its presets, secrets never shown, the requests page redacted, retention."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from connections import engine
from connections.models import Incoming, Run
from webhooks import processing
from webhooks.models import Webhook, WebhookRequest

from .conftest import SECRET, build_pipeline, make_webhook


def form_data(incoming: Incoming, **extra) -> dict:
    return {"name": "Picqer orders", "identifier": "", "description": "", "incomings": [incoming.pk],
            "log_requests": "on", "max_body_bytes": "1048576", "shared_secret_location": "header",
            "hmac_algorithm": "sha256", "hmac_encoding": "hex", **extra}


def test_a_preset_generates_its_secret_which_is_never_rendered_back(signed_in, destination):
    incoming = build_pipeline(destination).incoming
    response = signed_in.post("/connections/webhooks/new/", form_data(
        incoming, preset="picqer", hmac_enabled="on", hmac_header="X-Picqer-Signature", hmac_encoding="base64"))

    webhook = Webhook.objects.get()
    assert response.status_code == 302 and response["Location"] == webhook.get_absolute_url()
    assert webhook.identifier == "picqer-orders" and webhook.preset == "picqer"
    assert webhook.validators["hmac"] == {"header": "X-Picqer-Signature", "algorithm": "sha256",
                                          "encoding": "base64", "prefix": ""}
    secret = webhook.secrets["hmac"]
    assert len(secret) >= 32
    page = signed_in.get(webhook.get_absolute_url()).content.decode()
    assert secret not in page and "A secret is stored; leave empty to keep it." in page
    assert f"/webhooks/{webhook.identifier}" in page
    # Saving again without typing a secret keeps it.
    signed_in.post(webhook.get_absolute_url(), form_data(
        incoming, name="Picqer orders", identifier="picqer-orders", preset="picqer", hmac_enabled="on",
        hmac_header="X-Picqer-Signature", hmac_encoding="base64"))
    webhook.refresh_from_db()
    assert webhook.secrets == {"hmac": secret}


def test_the_list_shows_endpoint_incomings_and_validators(signed_in, destination):
    webhook = make_webhook("pipedrive", build_pipeline(destination).incoming)
    WebhookRequest.objects.create(webhook=webhook, http_status=202)
    make_webhook(None, identifier="open-door")

    page = signed_in.get("/connections/webhooks/").content.decode()

    assert "/webhooks/pipedrive-events" in page and "Pushed orders" in page and "HTTP Basic" in page
    assert "None: anyone may post" in page and "never" in page


def test_form_errors_say_what_to_fix(signed_in, destination):
    incoming = build_pipeline(destination).incoming
    page = signed_in.post("/connections/webhooks/new/", form_data(
        incoming, hmac_enabled="on", basic_enabled="on", ip_allow_list="10.0.0.0/8\nnot-an-ip")).content.decode()

    assert "Name the header that carries the signature." in page
    assert "Enter the secret the platform signs with." in page
    assert "Enter the user name the platform sends." in page
    assert "“not-an-ip” is not an IP address or CIDR range" in page
    assert not Webhook.objects.exists()


def test_loopback_public_base_url_is_warned_about(signed_in, destination, settings):
    webhook = make_webhook("picqer", build_pipeline(destination).incoming)
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    assert "is a loopback address" in signed_in.get(webhook.get_absolute_url()).content.decode()
    settings.PUBLIC_BASE_URL = "https://alumio.example.com"
    page = signed_in.get(webhook.get_absolute_url()).content.decode()
    assert "public-url-warning" not in page and "https://alumio.example.com/webhooks/picqer-events" in page


def test_the_request_page_redacts_credentials_in_headers_query_and_body(signed_in, destination):
    webhook = make_webhook("copper", build_pipeline(destination).incoming)
    body = f'{{"subscription_id": 1, "type": "company", "event": "update", "ids": [5], "echo": "{SECRET}"}}'.encode()
    request = WebhookRequest.objects.create(
        webhook=webhook, http_status=202, validator_result="accepted", body=body, size=len(body),
        headers={"X-Alumio-Webhook-Secret": SECRET, "Authorization": "Bearer abc.def", "User-Agent": "Copper"},
        query_string=f"token={SECRET}")

    page = signed_in.get(request.get_absolute_url()).content.decode()

    assert SECRET not in page and "abc.def" not in page
    assert "[redacted]" in page and "Copper" in page and "&quot;ids&quot;" in page
    listing = signed_in.get(f"/connections/webhooks/requests/?webhook={webhook.pk}").content.decode()
    assert f"#{request.pk}" in listing


def test_incoming_form_offers_the_webhook_subscriber(signed_in):
    response = signed_in.post("/connections/incoming/new/", {
        "name": "Pushed orders", "identifier": "", "platform": "webhook", "parser_format": "json",
        "parser_path": "data", "parser_delimiter": ",", "request_parameters": ""})

    incoming = Incoming.objects.get()
    assert response.status_code == 302
    assert (incoming.platform, incoming.client, incoming.entity) == ("webhook", None, "")
    assert incoming.parser == {"format": "json", "path": "data", "delimiter": ","}
    page = signed_in.get(incoming.get_absolute_url()).content.decode()
    assert "Path to the entities" in page and "Run now" not in page
    assert "Webhook subscriber" in signed_in.get("/connections/incoming/").content.decode()
    bad = signed_in.post("/connections/incoming/new/", {
        "name": "Bad", "platform": "webhook", "parser_format": "json", "parser_path": "data..items"})
    assert "A path is keys separated by dots" in bad.content.decode()


def test_running_a_webhook_incoming_fails_clearly(db, destination):
    incoming = build_pipeline(destination).incoming
    run = engine.execute_run(engine.start_run(incoming).pk)
    assert run.status == Run.Status.FAILED and "receives its entities from webhooks" in run.error


def test_retention_keeps_unprocessed_requests(db, destination, settings):
    settings.RETENTION_DAYS_WEBHOOK_REQUESTS = 14
    webhook = make_webhook(None, build_pipeline(destination).incoming)
    old = timezone.now() - timedelta(days=15)
    for status in ("processed", "failed", "refused", "received", "processing"):
        WebhookRequest.objects.create(webhook=webhook, status=status, http_status=202, received_at=old)
    WebhookRequest.objects.create(webhook=webhook, status="processed", http_status=202)

    assert processing.prune() == 3
    assert sorted(WebhookRequest.objects.values_list("status", flat=True)) == ["processed", "processing", "received"]


def test_admin_lists_webhooks_and_requests(signed_in, destination):
    webhook = make_webhook("pipedrive", build_pipeline(destination).incoming)
    WebhookRequest.objects.create(webhook=webhook, http_status=202, body=b"{}")
    assert signed_in.get("/admin/webhooks/webhook/").status_code == 200
    assert signed_in.get("/admin/webhooks/webhookrequest/").status_code == 200
    page = signed_in.get(f"/admin/webhooks/webhook/{webhook.pk}/change/").content.decode()
    assert SECRET not in page

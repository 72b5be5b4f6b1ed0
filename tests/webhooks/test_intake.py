"""The endpoint over real sockets (live_server): presets, refusals, limits and unreadable bodies."""
from __future__ import annotations

import pytest
import requests

from webhooks import processing
from webhooks.models import WebhookRequest

from .conftest import SECRET, build_pipeline, make_webhook, picqer_event, signed_headers

PRESETS = ["picqer", "pipedrive", "timely", "copper", "connectwise"]


def post(live_server, webhook, body: bytes, headers: dict | None = None, query: str = "", **kwargs):
    return requests.post(f"{live_server.url}/webhooks/{webhook.identifier}{query}", data=body,
                         headers=headers or {}, timeout=30, **kwargs)


@pytest.mark.parametrize("platform", PRESETS)
def test_each_preset_accepts_a_correctly_signed_request_and_refuses_a_wrong_one(
        live_server, transactional_db, destination, platform):
    pipeline = build_pipeline(destination)
    webhook = make_webhook(platform, pipeline.incoming)
    body = picqer_event("Ada Lovelace")

    headers, query = signed_headers(webhook, body)
    accepted = post(live_server, webhook, body, headers, query)
    wrong_headers, wrong_query = signed_headers(webhook, body, wrong=True)
    refused = post(live_server, webhook, body, wrong_headers, wrong_query)
    unsigned = post(live_server, webhook, body, {"Content-Type": "application/json"})

    assert accepted.status_code == 202, accepted.text
    stored = WebhookRequest.objects.get(status=WebhookRequest.Status.RECEIVED)
    assert bytes(stored.body) == body and stored.size == len(body) and stored.validator_result == "accepted"
    assert refused.status_code in (401, 403) and unsigned.status_code in (401, 403)
    # Nothing in the answer helps an attacker; the reason is kept for the consultant.
    assert refused.json() in ({"error": "unauthorized"}, {"error": "forbidden"})
    reasons = list(WebhookRequest.objects.filter(status=WebhookRequest.Status.REFUSED).values_list(
        "validator_result", flat=True))
    assert len(reasons) == 2 and all(reasons), reasons
    assert not WebhookRequest.objects.filter(status=WebhookRequest.Status.REFUSED).exclude(body=b"").exists()
    # A credential that arrived in a header or in the URL is not stored in the clear.
    for row in WebhookRequest.objects.all():
        assert SECRET not in str(row.headers) and SECRET not in row.query_string


def test_a_signature_over_other_bytes_is_refused(live_server, transactional_db, destination):
    """The HMAC covers the raw body: the same JSON re-serialized (other spacing) no longer matches."""
    webhook = make_webhook("picqer", build_pipeline(destination).incoming)
    body = picqer_event("Ada")
    headers, _ = signed_headers(webhook, body)
    tampered = body.replace(b'"Ada"', b'"Eve"')

    assert post(live_server, webhook, tampered, headers).status_code == 403
    assert post(live_server, webhook, body, headers).status_code == 202


def test_unknown_and_disabled_webhooks_answer_404_and_other_methods_405(live_server, transactional_db, destination):
    webhook = make_webhook(None, build_pipeline(destination).incoming)

    assert requests.post(f"{live_server.url}/webhooks/no-such-hook", data=b"{}", timeout=30).status_code == 404
    assert requests.get(f"{live_server.url}/webhooks/{webhook.identifier}", timeout=30).status_code == 405
    webhook.disabled = True
    webhook.save()
    assert post(live_server, webhook, b"{}").status_code == 404
    assert not WebhookRequest.objects.exists()


def test_an_oversized_body_answers_413_and_is_not_stored(live_server, transactional_db, destination):
    webhook = make_webhook(None, build_pipeline(destination).incoming, max_body_bytes=1000)

    too_big = post(live_server, webhook, b"x" * 1001)
    fits = post(live_server, webhook, b"[" + b" " * 998 + b"]")

    assert too_big.status_code == 413 and fits.status_code == 202
    refused = WebhookRequest.objects.get(status=WebhookRequest.Status.REFUSED)
    assert "over the limit of 1000 bytes" in refused.validator_result and bytes(refused.body) == b""
    assert WebhookRequest.objects.get(status=WebhookRequest.Status.RECEIVED).size == 1000


def test_a_chunked_body_without_length_is_asked_for_its_length_not_accepted_empty(
        live_server, transactional_db, destination):
    """Django reads only Content-Length bytes: a 202 here would have silently dropped the body."""
    webhook = make_webhook(None, build_pipeline(destination).incoming)

    def chunks():
        yield b'{"data": '
        yield b'{"name": "Ada"}}'

    answer = post(live_server, webhook, chunks())

    assert answer.status_code == 411
    assert not WebhookRequest.objects.filter(status=WebhookRequest.Status.RECEIVED).exists()


def test_an_unreadable_body_is_accepted_stored_and_marked_failed_with_the_parsers_error(
        live_server, transactional_db, destination):
    pipeline = build_pipeline(destination)
    webhook = make_webhook(None, pipeline.incoming)

    answer = post(live_server, webhook, b'{"data": [1, 2,', {"Content-Type": "application/json"})

    assert answer.status_code == 202  # the sender cannot fix it: never make it retry
    stored = WebhookRequest.objects.get()
    processing.process(stored.pk)
    stored.refresh_from_db()
    assert stored.status == WebhookRequest.Status.FAILED
    assert "invalid JSON at line 1" in stored.error
    assert bytes(stored.body) == b'{"data": [1, 2,' and stored.tasks_created == 0


def test_ip_allow_list(live_server, transactional_db, destination):
    incoming = build_pipeline(destination).incoming
    inside = make_webhook(None, incoming, identifier="inside", ip_allow_list=["127.0.0.0/8"])
    outside = make_webhook(None, incoming, identifier="outside", ip_allow_list=["203.0.113.0/24", "2001:db8::/32"])

    assert post(live_server, inside, b"{}").status_code == 202
    assert post(live_server, outside, b"{}").status_code == 403
    refused = WebhookRequest.objects.get(status=WebhookRequest.Status.REFUSED)
    assert refused.validator_result == "source address 127.0.0.1 is not in the IP allow-list"
    assert refused.source_ip == "127.0.0.1"


def test_refused_requests_are_only_logged_when_logging_is_on(live_server, transactional_db, destination):
    webhook = make_webhook("picqer", build_pipeline(destination).incoming)
    webhook.log_requests = False
    webhook.save()

    assert post(live_server, webhook, b"{}", {"X-Picqer-Signature": "nope"}).status_code == 403
    assert not WebhookRequest.objects.exists()

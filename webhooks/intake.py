"""The public endpoint: POST /webhooks/<identifier>.

No sign-in and no CSRF token: a webhook is authenticated only by its request validators. The
request is stored raw in the database and the answer (202) leaves only after that commit, so
an accepted request is never lost. Nothing here calls a platform: a worker turns the stored
request into tasks (processing.py), told by a broker message sent after the answer is out.
"""
from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from clients.redaction import REDACTED

from . import validators
from .models import Webhook, WebhookRequest

log = logging.getLogger(__name__)

# What a refused sender is told: the status in words, never which check failed.
ANSWERS = {401: "unauthorized", 403: "forbidden", 411: "length required", 413: "body too large"}
WEBHOOK_FIELDS = ("id", "identifier", "disabled", "log_requests", "validators", "secrets")


class AcceptedResponse(JsonResponse):
    """202 Accepted; once it has been sent (WSGI close), the workers are told that requests wait.

    The broker message goes out after the answer and from another thread (tasks.Announcer), so a
    slow or absent broker never reaches the sender's latency; a message that cannot be sent is
    not a loss, the periodic sweep finds the request (processing.process_pending).
    """

    def __init__(self) -> None:
        super().__init__({"status": "accepted"}, status=202)

    def close(self) -> None:
        super().close()
        from .tasks import announcer

        announcer.announce()


def _answer(status: int, error: str) -> JsonResponse:
    response = JsonResponse({"error": error}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="webhook"'
    return response


def source_ip(request: HttpRequest) -> str | None:
    """The sender's address: REMOTE_ADDR, or behind our own proxy the address it saw (the last hop)."""
    if settings.WEBHOOK_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR") or None


def _stored_headers(request: HttpRequest, names: set[str]) -> dict[str, str]:
    return {key: (REDACTED if key.lower() in names else value) for key, value in request.headers.items()}


def _stored_query(request: HttpRequest, names: set[str]) -> str:
    pairs = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
    return urlencode([(k, REDACTED if k.lower() in names else v) for k, v in pairs])


@csrf_exempt
@login_not_required
def receive(request: HttpRequest, identifier: str) -> JsonResponse:
    if request.method != "POST":
        response = _answer(405, "method not allowed")
        response["Allow"] = "POST"
        return response
    webhook = Webhook.objects.filter(identifier=identifier, disabled=False).only(*WEBHOOK_FIELDS).first()
    if webhook is None:
        return _answer(404, "not found")
    config = webhook.validators or {}
    limit = validators.max_body_bytes(config)
    ip = source_ip(request)
    header_names, query_names = validators.credential_names(config)

    def refuse(status: int, reason: str, size: int) -> JsonResponse:
        log.warning("webhook %s refused a request from %s: %s", webhook.identifier, ip, reason)
        if webhook.log_requests:
            WebhookRequest.objects.create(
                webhook=webhook, status=WebhookRequest.Status.REFUSED, source_ip=ip, http_status=status,
                validator_result=reason[:300], content_type=request.content_type or "", size=size,
                headers=_stored_headers(request, header_names), query_string=_stored_query(request, query_names))
        return _answer(status, ANSWERS[status])

    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if not request.META.get("CONTENT_LENGTH") and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        # Django reads a body only up to its Content-Length: a chunked one would arrive empty and be
        # lost behind a 202. Asking for the length makes the sender retry with it instead.
        return refuse(411, "a chunked body without Content-Length", 0)
    if declared > limit:
        return refuse(413, f"body of {declared} bytes is over the limit of {limit} bytes", declared)
    body = request.read(limit + 1)  # never more than the limit, whatever Content-Length claimed
    if len(body) > limit:
        return refuse(413, f"body is over the limit of {limit} bytes", len(body))
    refusal = validators.validate(config, webhook.secrets, validators.Delivery(
        body=body, headers=request.headers, query=request.GET, source_ip=ip))
    if refusal:
        return refuse(refusal.status, refusal.reason, len(body))
    WebhookRequest.objects.create(
        webhook=webhook, status=WebhookRequest.Status.RECEIVED, source_ip=ip, http_status=202,
        validator_result="accepted", content_type=(request.content_type or "")[:200], size=len(body),
        headers=_stored_headers(request, header_names), query_string=_stored_query(request, query_names),
        body=body)
    # Autocommit: the INSERT is committed when create() returns, so the 202 leaves after the commit.
    return AcceptedResponse()

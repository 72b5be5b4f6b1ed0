"""The public endpoint: POST /webhooks/<identifier>.

No sign-in and no CSRF token: a webhook is authenticated only by its request validators. The
request is stored raw in the database and the answer (202) leaves only after that commit, so
an accepted request is never lost: concurrent requests of a process share one commit
(committer.py), and the webhook is read from a per-process cache whose staleness is checked
at that commit (definitions.py), so an accepted request costs no query of its own.
Nothing here calls a platform: a worker turns the stored request into tasks (processing.py),
told by a broker message sent after the answer is out.
"""
from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from clients.redaction import REDACTED

from . import definitions, validators
from .committer import CommitFailed, committer
from .definitions import Definition
from .models import WebhookRequest

log = logging.getLogger(__name__)

# What a refused sender is told: the status in words, never which check failed.
ANSWERS = {401: "unauthorized", 403: "forbidden", 411: "length required", 413: "body too large"}


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


def _stored_headers(request: HttpRequest, names: frozenset[str]) -> dict[str, str]:
    return {key: (REDACTED if key.lower() in names else value) for key, value in request.headers.items()}


def _stored_query(request: HttpRequest, names: frozenset[str]) -> str:
    pairs = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
    return urlencode([(k, REDACTED if k.lower() in names else v) for k, v in pairs])


def _judge(request: HttpRequest, webhook: Definition, body: bytes) -> tuple[validators.Refusal | None, int, bytes]:
    """(refusal or None, size to record, the body read so far, bounded by the webhook's limit)."""
    limit = webhook.limit
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if not request.META.get("CONTENT_LENGTH") and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        # Django reads a body only up to its Content-Length: a chunked one would arrive empty and be
        # lost behind a 202. Asking for the length makes the sender retry with it instead.
        return validators.Refusal(411, "a chunked body without Content-Length"), 0, body
    if declared > limit:
        return validators.Refusal(413, f"body of {declared} bytes is over the limit of {limit} bytes"), declared, body
    if len(body) <= limit:  # never more than the limit, whatever Content-Length claimed
        body += request.read(limit + 1 - len(body))
    if len(body) > limit:
        return validators.Refusal(413, f"body is over the limit of {limit} bytes"), len(body), body
    refusal = validators.validate(webhook.config, webhook.secrets, validators.Delivery(
        body=body, headers=request.headers, query=request.GET, source_ip=source_ip(request)))
    return refusal, len(body), body


def _row(request: HttpRequest, webhook: Definition, **fields) -> dict:
    """A WebhookRequest's values (by attname): credentials in headers and query replaced."""
    return {"webhook_id": webhook.id, "source_ip": source_ip(request),
            "content_type": (request.content_type or "")[:200],
            "headers": _stored_headers(request, webhook.header_names),
            "query_string": _stored_query(request, webhook.query_names), **fields}


@csrf_exempt
@login_not_required
def receive(request: HttpRequest, identifier: str) -> JsonResponse:
    if request.method != "POST":
        response = _answer(405, "method not allowed")
        response["Allow"] = "POST"
        return response
    webhook = definitions.get(identifier)
    body = b""
    for _attempt in range(4):  # a webhook edited between judging and committing, again and again: 503
        if webhook is None:
            return _answer(404, "not found")
        refusal, size, body = _judge(request, webhook, body)
        if refusal is None:
            row = _row(request, webhook, status=WebhookRequest.Status.RECEIVED, http_status=202,
                       validator_result="accepted", size=size, body=body)
            try:
                if committer.store(row, webhook.updated_at):
                    return AcceptedResponse()  # committed: the 202 leaves after the commit
            except CommitFailed as exc:
                log.error("webhook %s: a request was not stored (%s); answered 503", identifier, exc)
                return _answer(503, "not stored, try again")
        elif not webhook.cached:
            return _refuse(request, webhook, refusal, size)
        # Judged against this process's copy and refused, or accepted but the webhook changed
        # before the commit: judge again against the webhook as the database has it now.
        fresh = definitions.load(identifier)
        if refusal is not None and fresh is not None and fresh.updated_at == webhook.updated_at:
            return _refuse(request, fresh, refusal, size)
        webhook = fresh
    return _answer(503, "not stored, try again")


def _refuse(request: HttpRequest, webhook: Definition, refusal: validators.Refusal, size: int) -> JsonResponse:
    log.warning("webhook %s refused a request from %s: %s", webhook.identifier, source_ip(request), refusal.reason)
    if webhook.log_requests:
        row = _row(request, webhook, status=WebhookRequest.Status.REFUSED, http_status=refusal.status,
                   validator_result=refusal.reason[:300], size=size)
        WebhookRequest.objects.create(**row)
    return _answer(refusal.status, ANSWERS[refusal.status])

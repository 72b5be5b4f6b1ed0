"""Recording what a ClientSession exchanged: request logs, the "Run test" feed, the client's last use.

`RequestLogging` is a part of `clients.http.ClientSession` (a mixin): it reads the attributes the
session sets up (`client`, `run`, `task`, `on_exchange`, `_secrets`, `_session`, `body_limit`).
One RequestLog per exchange when the client logs requests, and always on failure, with every
secret redacted; `on_exchange` gets the same redacted record.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import requests
from django.utils import timezone as dj_timezone

from . import content_types, redaction

BODY_EXCERPT = 300  # characters of a response body quoted in an error message


class RequestLogging:
    """Redaction, request logs and usage stamps of each exchange (a part of ClientSession)."""

    def _redact_url(self, url: str) -> str:
        return redaction.redact_url(url, self._secrets)

    def _excerpt(self, body: bytes) -> str:
        text = body[: BODY_EXCERPT * 4].decode("utf-8", "replace")
        text = redaction.redact_text(text, self._secrets)
        return text[:BODY_EXCERPT] + ("…" if len(body) > BODY_EXCERPT else "")

    def _exchange(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str],
        resp: requests.Response | None,
        elapsed_ms: int,
        error: str,
        step: str,
        body: bytes | None = None,
    ) -> None:
        """Record one exchange: RequestLog (if logging or failed), on_exchange, client usage."""
        status = resp.status_code if resp is not None else None
        failed = status is None or status >= 400 or bool(error)
        self._touch(error if failed else "")
        if not (failed or self.client.log_requests or self.on_exchange):
            return  # the common, fast path: nothing to write
        secrets = self._secrets
        sent_headers = dict(self._session.headers)
        sent_headers.update(headers)
        if resp is not None and resp.request is not None:
            sent_headers = dict(resp.request.headers)
        record = {
            "method": method,
            "url": self._redact_url(resp.url if resp is not None else full_url(url, params)),
            "status": status,
            "duration_ms": elapsed_ms,
            "request_headers": redaction.redact_headers(sent_headers, secrets),
            "request_body": self._clip(content_types.log_text(json)),
            "response_headers": redaction.redact_headers(resp.headers if resp is not None else {}, secrets),
            "response_body": self._clip((body or b"").decode("utf-8", "replace")),
            "error": redaction.redact_text(error, secrets),
            "step": step,
            "ok": not failed,
        }
        if failed or self.client.log_requests:
            from .models import RequestLog

            log = RequestLog(
                client_id=self.client.pk,
                run_id=pk_of(self.run),
                task_id=pk_of(self.task),
                method=record["method"],
                url=record["url"],
                status=status,
                duration_ms=elapsed_ms,
                request_headers=record["request_headers"],
                request_body=record["request_body"],
                response_headers=record["response_headers"],
                response_body=record["response_body"],
                error=record["error"],
            )
            if self.log_buffer is not None and not self.on_exchange:
                self.log_buffer.append(log)  # written by flush_logs(), with the publisher's outcomes
            else:
                log.save(force_insert=True)
                record["log_id"] = log.pk
        if self.on_exchange:
            self.on_exchange(record)

    # A list: request logs wait here until flush_logs() writes them in one INSERT (the engine's
    # Publisher, in the transaction that saves its tasks' outcomes). None: each is written at once.
    log_buffer: list | None = None

    def flush_logs(self) -> int:
        """Write the buffered request logs (one bulk INSERT); how many were written."""
        if not self.log_buffer:
            return 0
        from .models import RequestLog

        logs, self.log_buffer[:] = list(self.log_buffer), []
        RequestLog.objects.bulk_create(logs, batch_size=500)
        return len(logs)

    def _clip(self, text: str) -> str:
        # Redact before cutting, so a secret split by the cut can't survive half-visible.
        text = redaction.redact_text(text[: self.body_limit + 200], self._secrets)
        if len(text) > self.body_limit:
            return text[: self.body_limit] + f"\n… (cut at {self.body_limit} characters)"
        return text

    def _touch(self, error: str) -> None:
        """Keep last_used_at/last_error current with one UPDATE, throttled while all is well."""
        from .models import HttpClient

        now = time.monotonic()
        changed = error != (self.client.last_error or "")
        if not changed and now - self._touched_at < 1.0:
            return
        self._touched_at = now
        stamp = dj_timezone.now()
        error = redaction.redact_text(error, self._secrets)[:2000]
        HttpClient.objects.filter(pk=self.client.pk).update(last_used_at=stamp, last_error=error)
        self.client.last_used_at, self.client.last_error = stamp, error


def pk_of(obj: Any) -> int | None:
    if obj is None:
        return None
    return obj if isinstance(obj, int) else obj.pk


def full_url(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    prepared = requests.Request("GET", url, params=params).prepare()
    return prepared.url or url

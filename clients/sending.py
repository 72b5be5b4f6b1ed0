"""Sending one logical request: the shared rate budget, 429 waits, bounded retries, the streamed read.

`Sending` is a part of `clients.http.ClientSession` (a mixin): it reads the attributes the session
sets up in its __init__ (`platform`, `budget`, `timeout`, `total_timeout`, `max_bytes`, the retry and
wait limits, `sleep`, `_session`) and uses `SessionCredentials._auth_headers` and
`RequestLogging._exchange`. See clients/http.py for what a request goes through.
"""
from __future__ import annotations

import json as jsonlib
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from variables import resolve as variables

from . import auth_status, content_types, rate_budget, rate_limits, waits
from .deadline import Deadline
from .errors import BAD_URL_ERRORS, describe_request_error
from .platform_errors import ClientError, ConnectionFailed, InvalidResponse, PlatformError, RateLimited, ServerError
from .rate_limits import seconds_until_next_utc_day
from .request_logging import full_url

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass
class ApiResponse:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    data: Any  # parsed JSON; None for an empty body
    url: str
    elapsed_ms: int


class _TooLarge(Exception):
    pass


class Sending:
    """`send()` and what it waits and retries by (a part of ClientSession)."""

    def send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        *,
        encoded: content_types.EncodedBody | None = None,
        accept: str | None = None,
        step: str = "",
        idempotent: bool | None = None,
        resolve_variables: bool = True,
    ) -> ApiResponse:
        """One logical request, with the retries and waits described in the module docstring.

        `encoded` is a form or multipart body (clients.content_types) sent instead of `json`;
        `accept` overrides the session's Accept (a file download). An answer that is a file
        comes back as `{"file": {...}}` (see content_types.file_entity).
        """
        method = method.upper()
        try:  # ${NAME} in request parameters and JSON payloads, resolved at call time (see `call`)
            if resolve_variables:
                params = variables.resolve(params)
                json = variables.resolve(json) if encoded is None else json
        except variables.UnknownVariable as exc:
            raise PlatformError(str(exc), step=step, method=method) from None
        extra_headers = {"Accept": accept} if accept else {}
        if encoded is not None:
            extra_headers["Content-Type"] = encoded.content_type
            json = encoded  # from here on `json` is what was sent, for the request log
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        retries = 0
        rate_limited = 0
        waited = 0.0
        refreshed = force_refresh = False
        while True:
            headers = self._auth_headers(force_refresh=force_refresh)
            force_refresh = False
            slot = self.budget.take(self.max_rate_limit_wait - waited)  # wait for the shared budget's next slot
            if not slot.granted:
                raise RateLimited(rate_budget.refusal(self.platform, slot, self.max_rate_limit_wait),
                                  retry_after=slot.wait, url=self._redact_url(full_url(url, params)),
                                  step=step, method=method)
            if slot.wait > 0:
                self.sleep(slot.wait)
                waited += slot.wait
            started = time.perf_counter()
            # The whole exchange, headers and body, within HTTP_TOTAL_TIMEOUT: the read timeout
            # alone never cuts off a platform that trickles its answer.
            deadline = Deadline(self.total_timeout).__enter__()
            try:
                resp = self._session.request(
                    method,
                    url,
                    params=params,
                    json=None if encoded is not None else json,
                    data=encoded.data if encoded is not None else None,
                    headers={**headers, **extra_headers},
                    timeout=self.timeout,
                    stream=True,
                )
            except BaseException as exc:
                deadline.__exit__()
                if not isinstance(exc, requests.RequestException):
                    raise
                elapsed = _ms(started)
                reason = self._cut_off_reason(deadline) or describe_request_error(exc, self.timeout)
                self._exchange(method, url, params, json, headers, None, elapsed, reason, step)
                if (idempotent and retries < self.max_retries and not isinstance(exc, BAD_URL_ERRORS)
                        and not deadline.expired):  # a trickling platform would only trickle again
                    self.sleep(self._backoff(retries))
                    retries += 1
                    continue
                tries = f" after {retries + 1} attempts" if retries else ""
                raise ConnectionFailed(
                    f"could not reach {self.platform.label}{tries}: {reason}",
                    url=self._redact_url(full_url(url, params)),
                    step=step,
                    method=method,
                ) from None

            try:
                body = self._read(resp)
                if deadline.expired:  # cut off at a line end can look like a short, complete answer
                    raise requests.ConnectionError("cut off at the total deadline")
            except _TooLarge:
                elapsed = _ms(started)
                message = (
                    f"the response is larger than {self.max_bytes} bytes (HTTP_MAX_RESPONSE_BYTES); it was cut off"
                )
                self._exchange(method, url, params, json, headers, resp, elapsed, message, step, b"")
                raise InvalidResponse(
                    message, status=resp.status_code, url=self._redact_url(resp.url), step=step, method=method
                ) from None
            except requests.RequestException as exc:
                elapsed = _ms(started)
                reason = self._cut_off_reason(deadline) or describe_request_error(exc, self.timeout)
                self._exchange(method, url, params, json, headers, resp, elapsed, reason, step, b"")
                if idempotent and retries < self.max_retries and not deadline.expired:
                    self.sleep(self._backoff(retries))
                    retries += 1
                    continue
                raise ConnectionFailed(
                    f"the connection to {self.platform.label} broke while reading the response: {reason}",
                    url=self._redact_url(resp.url),
                    step=step,
                    method=method,
                ) from None
            finally:
                resp.close()
                deadline.__exit__()
            elapsed = _ms(started)
            status = resp.status_code
            self.budget.observe(status, resp.headers)  # a 429, 0 remaining, the live limit: for everyone

            if status < 400 and body and content_types.looks_like_file(resp.headers.get("Content-Type")):
                # A file (the entity's download, or a PDF/image where JSON was expected): kept whole.
                kept = content_types.describe_file_answer(resp.headers, body).encode()
                try:
                    data = content_types.file_entity(resp.headers, body, resp.url)
                except content_types.FileTooLarge as exc:
                    self._exchange(method, url, params, json, headers, resp, elapsed, str(exc), step, kept)
                    raise InvalidResponse(str(exc), status=status, url=self._redact_url(resp.url), step=step,
                                          method=method) from None
                self._exchange(method, url, params, json, headers, resp, elapsed, "", step, kept)
                return ApiResponse(status=status, headers=resp.headers, data=data, url=resp.url, elapsed_ms=elapsed)
            if status < 400:
                try:
                    data = jsonlib.loads(body) if body.strip() else None
                except (ValueError, RecursionError) as exc:  # RecursionError: thousands of nested [ or {
                    message = f"{self.platform.label} answered HTTP {status} with a body that is not JSON"
                    if isinstance(exc, RecursionError):
                        message += " this application can read (nested too deeply)"
                    self._exchange(method, url, params, json, headers, resp, elapsed, message, step, body)
                    raise InvalidResponse(
                        message,
                        status=status,
                        url=self._redact_url(resp.url),
                        body=self._excerpt(body),
                        step=step,
                        method=method,
                    ) from None
                self._exchange(method, url, params, json, headers, resp, elapsed, "", step, body)
                if not self.oauth:
                    auth_status.key_accepted(self.client)
                return ApiResponse(status=status, headers=resp.headers, data=data, url=resp.url, elapsed_ms=elapsed)

            error_kwargs = {
                "status": status,
                "url": self._redact_url(resp.url),
                "body": self._excerpt(body),
                "step": step,
                "method": method,
            }
            if status == 401 and self.oauth and not refreshed:
                # The access token may have been revoked or expired early: refresh once, retry once.
                note = "401: refreshing the access token"
                self._exchange(method, url, params, json, headers, resp, elapsed, note, step, body)
                refreshed = force_refresh = True
                continue
            if status == 429:
                spent = self.daily_budget_spent(resp.headers)
                if spent:
                    # A minute past midnight: an attempt a moment early (clock skew) would be
                    # refused again and wait a whole further day.
                    wait = seconds_until_next_utc_day() + 60
                    message = (f"{self.platform.label}'s daily API budget for this account is used up "
                               f"(HTTP 429, {spent}: 0); calls wait for the next UTC day")
                else:
                    wait, capped = waits.capped(self.rate_limit_wait(resp.headers, rate_limited))
                    message = f"{self.platform.label} is rate limiting this HTTP Client (HTTP 429){capped}"
                self._exchange(method, url, params, json, headers, resp, elapsed, message, step, body)
                # A 429 means the request was not processed, so any method may be sent again.
                if (
                    self.wait_on_rate_limit
                    and rate_limited < self.max_rate_limit_retries
                    and waited + wait <= self.max_rate_limit_wait
                ):
                    self.sleep(wait)
                    waited += wait
                    rate_limited += 1
                    continue
                if rate_limited:
                    message += f", still after {rate_limited} waits totalling {waited:.0f} s"
                raise RateLimited(message, retry_after=wait, **error_kwargs)
            reason = f"{self.platform.label} answered HTTP {status} {resp.reason or ''}".rstrip()
            self._exchange(method, url, params, json, headers, resp, elapsed, reason, step, body)
            if status >= 500:
                if idempotent and retries < self.max_retries:
                    self.sleep(self._backoff(retries))
                    retries += 1
                    continue
                if retries:
                    reason += f" (after {retries + 1} attempts)"
                elif not idempotent:
                    # Sent once, never repeated inside this call: the platform may have applied it.
                    # (A route's "Retry on failure" may still try it again later, and says so.)
                    reason += f" (this {method} was sent once: the platform may have applied it)"
                raise ServerError(reason, **error_kwargs)
            if status == 401 and not self.oauth:  # the stored API key: the client's badge says so
                auth_status.key_refused(self.client, reason)
            raise ClientError(reason, **error_kwargs)

    # -- rate limits and backoff

    def rate_limit_wait(self, headers: Mapping[str, str], attempt: int = 0) -> float:
        """Seconds to wait after a 429: Retry-After, else the platform's reset header, else backoff."""
        return rate_limits.wait_after_429(self.platform.rate_limit, headers, attempt)

    def _cut_off_reason(self, deadline: Deadline) -> str:
        if not deadline.expired:
            return ""
        return f"no complete answer within {self.total_timeout:g} s (HTTP_TOTAL_TIMEOUT), so it was cut off"

    def daily_budget_spent(self, headers: Mapping[str, str]) -> str:
        """The name of the platform's daily-budget header that reads 0, or "" if none does."""
        return rate_limits.daily_budget_spent(self.platform.rate_limit, headers)

    def _backoff(self, attempt: int) -> float:
        base = self.backoff * (2**attempt)
        return min(30.0, base + random.uniform(0, base))

    def _read(self, resp: requests.Response) -> bytes:
        length = resp.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            raise _TooLarge
        chunks = []
        size = 0
        for chunk in resp.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)

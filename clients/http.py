"""The one seam for outbound HTTP: the only module that calls `requests`.

`ClientSession(client)` talks to one platform through one saved HTTP Client:

- one `requests.Session` per client (connection reuse), connect/read timeouts from settings;
- credentials from `clients.auth` (OAuth tokens from `clients.oauth`, refreshed once on a 401);
- 429: waits as the platform says (Retry-After, its reset header, else backoff with jitter),
  bounded in count and total time, or raises `RateLimited` at once (`wait_on_rate_limit=False`,
  which the engine uses to park a task as Waiting);
- the client's shared rate budget (clients/rate_budget): each request waits for its slot, within
  the same bounded wait, and every answer's rate-limit headers and 429s are shared with all processes;
- bounded retries of 5xx and connection errors, for idempotent requests only;
- bodies read streaming and cut off at HTTP_MAX_RESPONSE_BYTES;
- one RequestLog per exchange when the client logs requests, and always on failure, with
  every secret redacted; `on_exchange` gets the same redacted record (the "Run test" UI);
- `paginate()` walks a paginated entity page by page with the strategy its catalog names.

Every error is a `PlatformError` whose message says what happened and what to do, and never
contains a secret.
"""
from __future__ import annotations

import json as jsonlib
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone as dj_timezone

from variables import resolve as variables

from . import auth as authlib
from . import auth_status, content_types, outbound, rate_budget, rate_limits, redaction, transports, waits
from . import pagination as paginglib
from .deadline import Deadline
from .environment import EnvironmentOnce
from .errors import BAD_URL_ERRORS, describe_request_error
from .oauth import NeedsGrant, OAuthError, TokenEndpointUnreachable
from .platforms.base import Entity, NotADataEntity, Platform, UnknownEntity
from .platforms.registry import get_platform
from .rate_limits import parse_retry_after, seconds_until_next_utc_day  # noqa: F401 - re-exported

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
BODY_EXCERPT = 300  # characters of a response body quoted in an error message


# --------------------------------------------------------------------------- errors


class PlatformError(Exception):
    """Something went wrong talking to a platform. Safe to show: no secret is ever in it.

    `status` is the HTTP status (None when there was no response), `url` is redacted,
    `body` an excerpt of the response body (redacted), `step` where it happened ("page 2").
    """

    hint = ""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str = "",
        body: str = "",
        step: str = "",
        method: str = "",
    ):
        self.message = message
        self.status = status
        self.url = url
        self.body = body
        self.step = step
        self.method = method
        super().__init__(self.describe())

    def describe(self) -> str:
        where = f"{self.step}: " if self.step else ""
        request = f" ({self.method} {self.url})" if self.url else ""
        body = f" Response: {self.body}" if self.body else ""
        hint = f" {self.hint}" if self.hint else ""
        return f"{where}{self.message.rstrip('.')}{request}.{hint}{body}"


class ConnectionFailed(PlatformError):
    hint = "Check the Base URI and that the platform is reachable, then try again."


class InvalidResponse(PlatformError):
    hint = "The platform answered with something that is not the expected JSON; check the Base URI and the entity."


class ClientError(PlatformError):
    """A 4xx answer other than 429: the request itself needs fixing."""

    @property
    def hint(self) -> str:  # type: ignore[override]
        if self.status in (401, 403):
            return "Check the HTTP Client's credentials and their permissions."
        if self.status == 404:
            return "Check the Base URI, the entity and its path parameters."
        return "Check the request parameters and payload."


class ServerError(PlatformError):
    hint = "The platform had a problem; try again later."


class RateLimited(PlatformError):
    """429 Too Many Requests. `retry_after` is how many seconds the platform wants us to wait."""

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any):
        self.retry_after = retry_after
        super().__init__(message, **kwargs)

    @property
    def hint(self) -> str:  # type: ignore[override]
        seconds = round(min(self.retry_after, 10**9))  # finite even if a caller passed inf
        if seconds < 120:
            return f"Try again in {seconds} seconds."
        hours, minutes = divmod(seconds // 60, 60)
        return f"Try again in {f'{hours} h ' if hours else ''}{minutes} min."


class PaginationLimit(PlatformError):
    hint = "Narrow the request with filters, or raise PAGINATION_PAGE_CAP if this many pages are expected."


class CredentialsError(PlatformError):
    """The HTTP Client's settings cannot authenticate a request (nothing was sent)."""


class AccessNotGranted(CredentialsError, NeedsGrant):
    """OAuth access must be granted (again) in the dashboard before this client can be used."""


class TokenUnavailable(ConnectionFailed):
    """The OAuth token endpoint could not be reached to refresh the access token.

    A ConnectionFailed, so the engine retries it like any unreachable platform; nothing was
    sent to the platform itself, and the stored tokens are unchanged.
    """

    hint = (
        "Check the HTTP Client's Token URL and that the provider is reachable, then try again; "
        "the stored tokens were kept, so no new Grant access is needed."
    )


class TokenAnswerLost(TokenUnavailable):
    """The refresh request may have reached the provider, but no usable answer came back.

    A provider that rotates refresh tokens may already have replaced ours, so "no new grant
    is needed" cannot be promised: the next attempt tells.
    """

    hint = (
        "Check the HTTP Client's Token URL and that the provider is reachable, then try again. The request may "
        "have reached the provider: if it replaced the refresh token, the next attempt will ask for Grant access."
    )


class TokenRefreshFailed(CredentialsError):
    """The token endpoint answered, but the access token could not be refreshed."""

    hint = "Check the HTTP Client's Client ID, Client Secret and Token URL; if it persists, click Grant access again."


# --------------------------------------------------------------------------- results


@dataclass
class ApiResponse:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    data: Any  # parsed JSON; None for an empty body
    url: str
    elapsed_ms: int


@dataclass
class Page:
    number: int  # 1-based
    url: str  # redacted
    records: list  # after `keep`, if a filter was given
    raw_count: int  # what the platform returned, before any filtering


class _Session(EnvironmentOnce, requests.Session):
    """A requests.Session that drops *every* credential header when a redirect leaves the host.

    requests itself only strips Authorization; Pipedrive's x-api-token and Copper's X-PW-*
    would otherwise follow a redirect to anywhere.
    """

    credential_headers: frozenset[str] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        # Connections a Deadline can cut off, to public addresses only unless allowed (clients/outbound.py).
        outbound.guard(self)

    def rebuild_auth(self, prepared_request, response):  # noqa: ANN001 - requests' signature
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in list(prepared_request.headers):
                if name.lower() in self.credential_headers or redaction.is_secret_name(name):
                    del prepared_request.headers[name]
        super().rebuild_auth(prepared_request, response)


class _TooLarge(Exception):
    pass


# --------------------------------------------------------------------------- the session


class ClientSession:
    """Talk to one platform through one saved HTTP Client. Not thread-safe: one per worker thread."""

    def __init__(
        self,
        client,
        *,
        run=None,
        task=None,
        on_exchange: Callable[[dict], None] | None = None,
        wait_on_rate_limit: bool = True,
        max_rate_limit_retries: int | None = None,
        max_rate_limit_wait: float | None = None,
        max_retries: int | None = None,
        backoff: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: tuple[float, float] | None = None,
        transport: requests.Session | None = None,
    ):
        self.client = client
        self.platform: Platform = get_platform(client.platform)
        self.run = run
        self.task = task
        self.on_exchange = on_exchange
        self.wait_on_rate_limit = wait_on_rate_limit
        self.max_rate_limit_retries = (
            max_rate_limit_retries
            if max_rate_limit_retries is not None
            else getattr(settings, "HTTP_MAX_RATE_LIMIT_RETRIES", 5)
        )
        if max_rate_limit_wait is None:
            max_rate_limit_wait = getattr(settings, "HTTP_MAX_RATE_LIMIT_WAIT", 120.0)
        self.max_rate_limit_wait = max_rate_limit_wait
        self.max_retries = max_retries if max_retries is not None else getattr(settings, "HTTP_MAX_RETRIES", 3)
        self.backoff = backoff if backoff is not None else getattr(settings, "HTTP_RETRY_BACKOFF", 0.5)
        self.sleep = sleep
        self.timeout = timeout or (settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT)
        self.total_timeout = settings.HTTP_TOTAL_TIMEOUT
        self.max_bytes = settings.HTTP_MAX_RESPONSE_BYTES
        self.body_limit = settings.REQUEST_LOG_BODY_LIMIT
        self.oauth = self.platform.uses_oauth(client.settings or {})
        self._secrets: list[str] = client.secret_values()
        # ${NAME} in the client's fields, resolved now (variables/); an unknown one fails the first call.
        self.settings, self.secrets, self._variables_error = variables.client_fields(client)
        self._secrets += variables.secret_values() + [str(v) for v in self.secrets.values() if v]
        self._static_auth: dict[str, str] | None = None
        self._touched_at = 0.0
        self.budget = rate_budget.for_session(client, self.platform)  # shared by every process
        # `transport`: a connection pool kept across sessions (clients.transports); its headers,
        # cookies and credential headers are reset here, so nothing but open connections carries over.
        self._owns_session = transport is None
        self._session = _Session() if transport is None else transports.reset(transport)
        self._session.headers.update({"Accept": "application/json"})
        self._session.headers.update(self.platform.headers_for(self.settings))

    # -- lifecycle

    def close(self) -> None:
        self.flush_logs()
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> ClientSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public API

    @property
    def base_uri(self) -> str:
        if self._variables_error:
            raise CredentialsError(f"HTTP Client {self.client.identifier!r}: {self._variables_error}")
        base = (self.settings or {}).get("base_uri", "")
        if not base or "{" in base:
            raise CredentialsError(
                f"the Base URI of HTTP Client {self.client.identifier!r} is not set (it is {base or 'empty'!r}); "
                "open the HTTP Client and fill in your account's address"
            )
        return base

    def entity(self, entity: Entity | str, method: str | None = None) -> Entity:
        """An Entity from the platform's catalog by stable key or name (case-insensitive)."""
        if isinstance(entity, Entity):
            found = entity
        else:
            catalog = self.platform.catalog
            try:
                found = catalog.get(entity)
            except NotADataEntity:
                raise
            except UnknownEntity:
                if method:
                    try:
                        found = catalog.get(f"{method.upper()} {entity}")
                    except UnknownEntity:
                        found = None
                else:
                    found = None
                if found is None:
                    raise UnknownEntity(
                        f"{self.platform.label} has no entity {entity!r}; give its name as the docs call it "
                        f"or its key (\"GET /path\"); `manage.py entities {self.platform.slug} --search WORD` "
                        "lists them"
                    ) from None
        if method and found.method != method.upper():
            twin = next((e for e in self.platform.catalog if e.path == found.path and e.method == method.upper()), None)
            if twin is None:
                raise UnknownEntity(
                    f"{self.platform.label} entity {found.name!r} is {found.method}, and no {method.upper()} "
                    f"entity exists for {found.path}"
                )
            found = twin
        return found

    def call(
        self,
        entity: Entity | str,
        path: dict | None = None,
        query: dict | None = None,
        payload: Any = None,
        *,
        method: str | None = None,
        step: str = "",
        resolve_variables: bool = True,
    ) -> ApiResponse:
        """One request to `entity`. RequestBuildError (a ValueError) when the request can't be built.

        resolve_variables=False: path, query and payload hold record data (the caller resolved the
        configuration's own ${NAME}s); a "${X}" in data is sent as written, never replaced by a variable.
        """
        from .platforms.request import build_request

        entity = self.entity(entity, method)
        built = build_request(self.platform, entity, self.base_uri, path=path, query=query, payload=payload)
        body = built.json
        if resolve_variables and body is not None and built.content_type in (content_types.FORM,
                                                                             content_types.MULTIPART):
            try:  # ${NAME} in a form or multipart body: resolved before it is encoded (send sees bytes)
                body = variables.resolve(body)
            except variables.UnknownVariable as exc:
                raise PlatformError(str(exc), step=step or entity.name, method=built.method) from None
        encoded = content_types.encode(built.content_type, body, fetch=self.fetch_file)
        return self.send(
            built.method,
            built.url,
            params=built.params or None,
            json=built.json if encoded is None else None,
            encoded=encoded,
            accept=built.accept,
            step=step or entity.name,
            idempotent=entity.is_read or built.method in IDEMPOTENT_METHODS,
            resolve_variables=resolve_variables,
        )

    def paginate(
        self,
        entity: Entity | str,
        path: dict | None = None,
        query: dict | None = None,
        payload: Any = None,
        page_cap: int | None = None,
        *,
        keep: Callable[[Any], bool] | None = None,
        method: str | None = None,
        resolve_variables: bool = True,
    ) -> Iterator[Page]:
        """Pages of `entity`, one at a time, until the platform's end signal.

        Only one page is held at a time. `keep` filters records, but `raw_count` and the end
        of paging always use what the platform returned. More than `page_cap` pages (default
        settings.PAGINATION_PAGE_CAP) raises PaginationLimit, so a misbehaving API that keeps
        saying "more" cannot loop forever. An entity without pagination yields one page.

        ${NAME}s in `query` and `payload` are resolved once, before the first page (unless
        resolve_variables=False: the caller resolved its configuration's own). Every later page is
        sent as the strategy built it: a cursor or next-page link the platform returned reading
        "${SECRET}" goes back as written, never with the variable's value in its place.
        """
        from .platforms.request import build_request

        entity = self.entity(entity, method)
        built = build_request(self.platform, entity, self.base_uri, path=path, query=query, payload=payload)
        cap = page_cap or settings.PAGINATION_PAGE_CAP
        params, body = dict(built.params or {}), built.json
        if resolve_variables:
            try:
                params, body = variables.resolve(params), variables.resolve(body)
            except variables.UnknownVariable as exc:
                raise PlatformError(str(exc), step="page 1", method=built.method) from None
        try:
            strategy = paginglib.get_strategy(
                entity.pagination if entity.paginated else None, self.platform.default_pagination
            )
            request: paginglib.PageRequest | None = strategy.first(
                paginglib.PageRequest(built.method, built.url, params, body)
            )
        except paginglib.PageShapeError as exc:
            raise InvalidResponse(str(exc), step="page 1") from None
        number = 0
        while request is not None:
            number += 1
            step = f"page {number}"
            if number > cap:
                raise PaginationLimit(
                    f"stopped after {cap} pages: the page cap ({cap}) was reached and "
                    f"{self.platform.label} still reports more pages for {entity.name!r}",
                    step=step,
                )
            response = self.send(
                request.method,
                request.url,
                params=request.params or None,
                json=request.json,
                accept=built.accept,
                step=step,
                idempotent=entity.is_read or request.method in IDEMPOTENT_METHODS,
                resolve_variables=False,  # resolved above; the rest came from the platform's answers
            )
            try:
                raw = strategy.records(response)
                raw_count = len(raw)
                following = strategy.next(request, response, raw_count)
            except paginglib.PageShapeError as exc:
                raise InvalidResponse(
                    str(exc), url=self._redact_url(response.url), step=step, method=request.method
                ) from None
            if following == request:
                raise InvalidResponse(
                    f"{self.platform.label} pointed to the same page again; stopping so paging cannot loop",
                    url=self._redact_url(response.url),
                    step=step,
                    method=request.method,
                )
            records = [r for r in raw if keep(r)] if keep else raw
            url = self._redact_url(response.url)
            # Drop our references before yielding, so only the consumer holds this page.
            response = raw = None
            yield Page(number=number, url=url, records=records, raw_count=raw_count)
            records = None
            request = following

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
                                  retry_after=slot.wait, url=self._redact_url(_full_url(url, params)),
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
                    url=self._redact_url(_full_url(url, params)),
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

    # -- credentials

    def _access_token(self, force_refresh: bool = False) -> str:
        from . import oauth

        try:
            return oauth.access_token(self.client, force_refresh=force_refresh,
                                      run_id=_pk(self.run), task_id=_pk(self.task))
        except NeedsGrant as exc:
            raise AccessNotGranted(
                f"HTTP Client {self.client.name!r} needs access granted again: open it and click "
                f"Grant access to {self.platform.label}"
                + (f" ({redaction.redact_text(str(exc), self._secrets)})" if str(exc) else "")
            ) from None
        except TokenEndpointUnreachable as exc:
            error = (TokenAnswerLost if exc.reached else TokenUnavailable)(
                f"HTTP Client {self.client.name!r}: the token endpoint of {self.platform.label} could not be "
                f"reached to refresh the access token ({redaction.redact_text(exc.reason, self._secrets)})",
                url=exc.url,
                method="POST",
            )
            self._touch(str(error))
            raise error from None
        except OAuthError as exc:
            error = TokenRefreshFailed(
                f"HTTP Client {self.client.name!r}: the access token could not be refreshed: "
                f"{redaction.redact_text(str(exc), self._secrets)}"
            )
            self._touch(str(error))
            raise error from None

    def _auth_headers(self, force_refresh: bool = False) -> dict[str, str]:
        if self._static_auth is not None:
            return self._static_auth
        creds = authlib.Credentials(
            platform=self.platform,
            settings=self.settings or {},
            secrets=self.secrets or {},
            access_token=lambda: self._access_token(force_refresh=force_refresh),
        )
        try:
            headers = authlib.auth_headers(creds)
        except authlib.AuthError as exc:
            error = CredentialsError(f"HTTP Client {self.client.name!r}: {exc}")
            self._touch(str(error))
            raise error from None
        # Redact what was derived from the secrets too (the base64 of a Basic header, a fresh token).
        self._secrets.extend(s for s in creds.derived if s not in self._secrets)
        self._session.credential_headers = frozenset(h.lower() for h in headers)
        if not self.oauth:
            self._static_auth = headers  # API keys don't change during a session
        return headers

    # -- files given by URL

    def fetch_file(self, url: str) -> content_types.FilePart:
        """A multipart file part given as {"url": ...}: fetched here, without the platform's
        credentials (a separate session), with the same timeouts and HTTP_MAX_FILE_BYTES as cap."""
        limit = content_types.max_file_bytes()
        shown = redaction.redact_url(url, self._secrets)
        # a trickling file host is cut off like a platform; private addresses refused (clients/outbound.py)
        plain = outbound.guard(requests.Session())
        try:
            with plain, Deadline(self.total_timeout), plain.get(url, timeout=self.timeout, stream=True) as resp:
                if resp.status_code >= 400:
                    raise content_types.BodyError(f"the file at {shown} could not be fetched: HTTP {resp.status_code}")
                length = resp.headers.get("Content-Length")
                chunks, size = [], 0
                if not (length and length.isdigit() and int(length) > limit):
                    for chunk in resp.iter_content(chunk_size=65536):
                        size += len(chunk)
                        if size > limit:
                            break
                        chunks.append(chunk)
                if (length and length.isdigit() and int(length) > limit) or size > limit:
                    raise content_types.BodyError(
                        f"the file at {shown} is larger than {limit} bytes (HTTP_MAX_FILE_BYTES)"
                    )
                return content_types.FilePart(
                    filename=content_types.filename_from(resp.headers, resp.url),
                    content_type=content_types.media_type(resp.headers.get("Content-Type"))
                    or content_types.OCTET_STREAM,
                    content=b"".join(chunks),
                )
        except requests.RequestException as exc:
            raise ConnectionFailed(
                f"the file at {shown} could not be fetched: {describe_request_error(exc, self.timeout)}"
            ) from None

    # -- reading and recording

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
            "url": self._redact_url(resp.url if resp is not None else _full_url(url, params)),
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
                run_id=_pk(self.run),
                task_id=_pk(self.task),
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


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _pk(obj: Any) -> int | None:
    if obj is None:
        return None
    return obj if isinstance(obj, int) else obj.pk


def _full_url(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    prepared = requests.Request("GET", url, params=params).prepare()
    return prepared.url or url

"""The one seam for outbound HTTP: with the modules it is made of (below), the only code that calls `requests`.

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

Where the parts live: this module has the session's public API (entities, `call`, `paginate`,
files given by URL); sending with its waits and retries is in clients/sending.py, credentials in
clients/session_credentials.py, request logs in clients/request_logging.py, the errors in
clients/platform_errors.py and the `requests.Session` it sends through in clients/transports.py.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from variables import resolve as variables

from . import content_types, outbound, rate_budget, redaction, transports
from . import pagination as paginglib
from .deadline import Deadline
from .errors import describe_request_error
from .platform_errors import (  # noqa: F401 - the seam's errors, imported from here by most callers
    AccessNotGranted,
    ClientError,
    ConnectionFailed,
    CredentialsError,
    InvalidResponse,
    PaginationLimit,
    PlatformError,
    RateLimited,
    ServerError,
    TokenAnswerLost,
    TokenRefreshFailed,
    TokenUnavailable,
)
from .platforms.base import Entity, NotADataEntity, Platform, UnknownEntity
from .platforms.registry import get_platform
from .request_logging import RequestLogging
from .sending import IDEMPOTENT_METHODS, ApiResponse, Sending
from .session_credentials import SessionCredentials

# --------------------------------------------------------------------------- pages


@dataclass
class Page:
    number: int  # 1-based
    url: str  # redacted
    records: list  # after `keep`, if a filter was given
    raw_count: int  # what the platform returned, before any filtering


# --------------------------------------------------------------------------- the session


class ClientSession(Sending, SessionCredentials, RequestLogging):
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
        self._session = transports.PlatformSession() if transport is None else transports.reset(transport)
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


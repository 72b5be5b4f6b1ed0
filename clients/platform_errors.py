"""What can go wrong talking to a platform: `PlatformError` and its kinds.

Raised by `clients.http.ClientSession` (and re-exported there, where most callers import them).
Every message says what happened and what to do, and never contains a secret.
"""
from __future__ import annotations

from typing import Any

from .oauth import NeedsGrant


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


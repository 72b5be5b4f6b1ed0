"""The credentials a ClientSession sends: API keys once per session, OAuth access tokens refreshed as needed.

`SessionCredentials` is a part of `clients.http.ClientSession` (a mixin): it reads the attributes
the session sets up (`client`, `platform`, `settings`, `secrets`, `oauth`, `run`, `task`, `_secrets`,
`_session`, `_static_auth`) and records failures with `RequestLogging._touch`. Errors become the
`PlatformError` kinds a user can act on (grant again, check the token URL, ...).
"""
from __future__ import annotations

from . import auth as authlib
from . import redaction
from .oauth import NeedsGrant, OAuthError, TokenEndpointUnreachable
from .platform_errors import AccessNotGranted, CredentialsError, TokenAnswerLost, TokenRefreshFailed, TokenUnavailable
from .request_logging import pk_of


class SessionCredentials:
    """The authentication headers of each request (a part of ClientSession)."""

    def _access_token(self, force_refresh: bool = False) -> str:
        from . import oauth

        try:
            return oauth.access_token(self.client, force_refresh=force_refresh,
                                      run_id=pk_of(self.run), task_id=pk_of(self.task))
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

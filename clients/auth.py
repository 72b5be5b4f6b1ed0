"""How each platform's credentials go onto an outgoing request.

`Platform.auth` names one strategy in STRATEGIES. A strategy reads the HTTP Client's fields
(non-secret `settings` and encrypted `secrets`, looked up by field name) and returns the
headers to send. Adding a sixth platform with a new scheme means one small function here
and one entry in STRATEGIES.

Every value that ends up in a header is checked first (one line, ASCII): a pasted key with a
trailing newline would otherwise split the header, and requests would refuse a non-ASCII
value with an error that quotes it. The error names the field, never the value.
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field

from .platforms.base import Platform


class AuthError(ValueError):
    """A credential is missing or cannot be sent. The message names the field, never its value."""

    def __init__(self, message: str, field_name: str | None = None):
        super().__init__(message)
        self.field_name = field_name


# Field names the platform modules use; a few alternatives are accepted so that a renamed
# field degrades into a clear "missing" error rather than a silent unauthenticated call.
_NAMES: dict[str, tuple[str, ...]] = {
    "api_key": ("api_key", "apikey", "key"),
    "api_token": ("api_token", "token", "api_key"),
    "company_id": ("company_id", "companyid", "company"),
    "public_key": ("public_key", "publickey"),
    "private_key": ("private_key", "privatekey"),
    "client_id": ("client_id", "clientid"),
    "pw_access_token": ("x_pw_accesstoken", "x_pw_access_token", "pw_access_token", "access_token", "api_key"),
    "pw_application": ("x_pw_application", "x_pw_app", "pw_application", "application"),
    "pw_user_email": ("x_pw_useremail", "x_pw_user_email", "pw_user_email", "user_email", "email"),
}


def check_header_value(label: str, value: str) -> str:
    """Return `value` when it can travel in an HTTP header, else raise AuthError naming `label`."""
    if not isinstance(value, str):
        value = str(value)
    if "\r" in value or "\n" in value:
        raise AuthError(f"{label} contains a line break; paste it again as a single line", label)
    if "\x00" in value:
        raise AuthError(f"{label} contains a NUL character; paste it again", label)
    try:
        value.encode("ascii")
    except UnicodeEncodeError:
        bad = next(i for i, ch in enumerate(value) if ord(ch) > 127)
        raise AuthError(
            f"{label} contains a non-ASCII character at position {bad + 1}; header values must be plain ASCII",
            label,
        ) from None
    if value != value.strip():
        raise AuthError(f"{label} starts or ends with spaces; remove them", label)
    return value


@dataclass
class Credentials:
    """What a strategy may read: the client's fields and, for OAuth, a token provider."""

    platform: Platform
    settings: dict
    secrets: dict
    access_token: Callable[[], str] = lambda: ""
    # Every computed header value that is secret as a whole (e.g. the base64 of a Basic
    # header), collected so the HTTP seam can redact it by value too.
    derived: list[str] = field(default_factory=list)

    @property
    def oauth(self) -> bool:
        return self.platform.uses_oauth(self.settings)

    def label(self, name: str) -> str:
        try:
            return self.platform.field(name).label
        except StopIteration:
            return name.replace("_", " ")

    def value(self, kind: str, label: str | None = None, *, required: bool = True, default: str = "") -> str:
        """The value of the first field present among the names known for `kind`."""
        names = _NAMES.get(kind, (kind,))
        for name in names:
            for source in (self.secrets, self.settings):
                raw = source.get(name)
                if raw not in (None, ""):
                    return check_header_value(label or self.label(name), str(raw))
        field_names = {f.name for f in self.platform.fields}
        name = next((n for n in names if n in field_names), names[0])
        if default:
            return default
        if required:
            shown = label or self.label(name)
            raise AuthError(f"{shown} is not set on this HTTP Client; open it and fill in {shown}", name)
        return ""

    def bearer(self) -> dict[str, str]:
        token = self.access_token()
        if not token:
            raise AuthError(
                f"no access token yet: open the HTTP Client and click Grant access to {self.platform.label}",
                "access_token",
            )
        token = check_header_value("Access token", token)
        self.derived.append(token)
        return {"Authorization": f"Bearer {token}"}

    def basic(self, user: str, password: str, user_label: str) -> dict[str, str]:
        if ":" in user:
            raise AuthError(f"{user_label} must not contain ':' (it is the user name of HTTP Basic auth)", user_label)
        encoded = base64.b64encode(f"{user}:{password}".encode("ascii")).decode("ascii")
        self.derived.append(encoded)
        return {"Authorization": f"Basic {encoded}"}


def basic_key(creds: Credentials) -> dict[str, str]:
    """Picqer: HTTP Basic with the API key as user name and an empty password."""
    key = creds.value("api_key")
    return creds.basic(key, "", creds.label("api_key"))


def pipedrive(creds: Credentials) -> dict[str, str]:
    """Pipedrive: the personal API token in `x-api-token`, or a Bearer token in OAuth mode."""
    if creds.oauth:
        return creds.bearer()
    return {"x-api-token": creds.value("api_token")}


def connectwise(creds: Credentials) -> dict[str, str]:
    """ConnectWise: Basic `companyId+publicKey:privateKey`, plus the integration's `clientId` header."""
    company = creds.value("company_id")
    public = creds.value("public_key")
    private = creds.value("private_key")
    headers = creds.basic(f"{company}+{public}", private, f"{creds.label('company_id')} / {creds.label('public_key')}")
    headers["clientId"] = creds.value("client_id")
    return headers


def bearer(creds: Credentials) -> dict[str, str]:
    """Timely (and any OAuth-only platform): `Authorization: Bearer <access token>`."""
    return creds.bearer()


def copper(creds: Credentials) -> dict[str, str]:
    """Copper: Bearer in OAuth mode, else the three X-PW-* API key headers."""
    if creds.oauth:
        return creds.bearer()
    return {
        "X-PW-AccessToken": creds.value("pw_access_token", "X-PW-AccessToken"),
        "X-PW-Application": creds.value("pw_application", "X-PW-Application", default="developer_api"),
        "X-PW-UserEmail": creds.value("pw_user_email", "X-PW-UserEmail"),
    }


STRATEGIES: dict[str, Callable[[Credentials], dict[str, str]]] = {
    "basic_key": basic_key,
    "pipedrive": pipedrive,
    "connectwise": connectwise,
    "bearer": bearer,
    "copper": copper,
}


def auth_headers(creds: Credentials) -> dict[str, str]:
    """The headers that authenticate a request for `creds.platform`."""
    try:
        strategy = STRATEGIES[creds.platform.auth]
    except KeyError:
        raise AuthError(f"unknown auth strategy {creds.platform.auth!r} on platform {creds.platform.slug}") from None
    return strategy(creds)

"""Redaction of secrets in URLs, headers, bodies and log records.

Every place that shows or stores an HTTP exchange goes through these helpers, so a secret
value can never leak into a request log, an exception text or the dashboard.

Two layers, because neither alone is enough:
- by *name*: headers and query parameters that carry credentials on any of the platforms
  (Authorization, x-api-token, X-PW-AccessToken, api_token=..., client_secret=...);
- by *value*: every secret string the HTTP Client holds (`HttpClient.secret_values()`) is
  replaced wherever it appears in free text (bodies, error messages, URLs, other headers).
"""
from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "[redacted]"

# Header and parameter names that carry credentials on any of the platforms.
# Deliberately absent, because they identify rather than authenticate and a log must show them:
# ConnectWise's `clientId` (registered once per integration, not per customer; the Basic
# credentials next to it are the secret) and Copper's X-PW-Application (always "developer_api")
# and X-PW-UserEmail (whose key it is; X-PW-AccessToken is the secret).
SECRET_NAMES = {
    "authorization",
    "proxy-authorization",
    "x-api-token",
    "api_token",
    "api-key",
    "apikey",
    "api_key",
    "x-api-key",
    "x-pw-accesstoken",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
    "code_verifier",
    "password",
    "private_key",
    "privatekey",
    "token",
    "cookie",
    "set-cookie",
}



def is_secret_name(name: str) -> bool:
    return name.lower() in SECRET_NAMES


def expand_secrets(secrets: Iterable[str]) -> set[str]:
    """The secret values plus the encoded forms they travel in.

    A key that went out in a Basic header appears in a server's echo as base64, and a value
    with spaces appears percent-encoded in a URL; both must be caught by value too.
    """
    from urllib.parse import quote, quote_plus

    out: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        secret = str(secret)
        out.update({secret, quote(secret, safe=""), quote_plus(secret)})
    return {s for s in out if s}


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret value inside free text (bodies, error messages)."""
    if not text:
        return text
    for secret in _replacements(tuple(str(s) for s in secrets if s)):
        text = text.replace(secret, REDACTED)
    return text


@functools.lru_cache(maxsize=16)
def _replacements(secrets: tuple) -> tuple[str, ...]:
    """What redact_text replaces for these secrets, worked out once per set of secrets (a publisher
    redacts every logged exchange with the same ones: expanding them each time cost 0.3 ms a call)."""
    # Longest first, so a secret that contains another is replaced whole. Values shorter than
    # 4 characters would blank out ordinary words and numbers; nobody uses such a key.
    return tuple(sorted({s for s in expand_secrets(secrets) if len(s) >= 4}, key=len, reverse=True))


def redact_headers(headers: Mapping[str, str] | None, secrets: Iterable[str] = ()) -> dict[str, str]:
    """Headers as a plain dict: credential headers blanked by name, secret values by value."""
    secrets = list(secrets)
    out = {}
    for key, value in (headers or {}).items():
        if is_secret_name(key):
            out[key] = REDACTED
        else:
            out[key] = redact_text(str(value), secrets) if secrets else str(value)
    return out


def redact_url(url: str, secrets: Iterable[str] = ()) -> str:
    """A URL with user info, credential query parameters and secret values removed."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:  # user:password@host
        netloc = REDACTED + "@" + netloc.rsplit("@", 1)[1]
    query = [(k, REDACTED if is_secret_name(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    cleaned = urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="[]"), parts.fragment))
    secrets = list(secrets)
    return redact_text(cleaned, secrets) if secrets else cleaned


def secret_fields(data: object) -> list[str]:
    """The string values held under credential names anywhere in parsed JSON (token answers)."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if is_secret_name(str(key)):
                if isinstance(value, str | int) and str(value):
                    found.append(str(value))
            else:
                found.extend(secret_fields(value))
    elif isinstance(data, list):
        for item in data:
            found.extend(secret_fields(item))
    return found


def _blank(data: object) -> object:
    if isinstance(data, dict):
        return {k: REDACTED if is_secret_name(str(k)) else _blank(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_blank(v) for v in data]
    return data


def redact_body(text: str, secrets: Iterable[str] = ()) -> str:
    """A request or response body with credential fields blanked by name, then secrets by value.

    Understands JSON and form-encoded bodies (OAuth token requests are forms, their answers
    JSON); anything else is redacted by value only.
    """
    if not text:
        return text
    secrets = list(secrets)
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        import json

        try:
            data = json.loads(stripped)
        except ValueError:
            pass
        else:
            return redact_text(json.dumps(_blank(data), ensure_ascii=False), secrets)
    elif "=" in stripped and not any(c.isspace() for c in stripped):
        try:
            pairs = parse_qsl(stripped, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            pairs = []
        if pairs:
            blanked = [(k, REDACTED if is_secret_name(k) else v) for k, v in pairs]
            return redact_text(urlencode(blanked, safe="[]"), secrets)
    return redact_text(text, secrets)


_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+(?!\[redacted\])[A-Za-z0-9._~+/=-]{6,}")


class RedactingFilter(logging.Filter):
    """Logging filter: hides Authorization-style credentials in any log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True

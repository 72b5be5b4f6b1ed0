"""Request validators: what a request must show before its body is stored.

Every check works on the raw request (bytes as sent, headers, source address) and compares
secrets in constant time. A refusal carries the HTTP status to answer and a reason that is
logged and shown on the requests page, never sent back to the caller.

The settings live in Webhook.validators (no secrets) and Webhook.secrets (encrypted):

    {"shared_secret": {"location": "header" | "query", "name": "X-Webhook-Secret"},  secrets["shared_secret"]
     "hmac": {"header": "X-Picqer-Signature", "algorithm": "sha256", "encoding": "base64" | "hex",
              "prefix": "sha256="},                                                      secrets["hmac"]
     "basic": {"username": "..."},                                                       secrets["basic_password"]
     "ip_allow_list": ["203.0.113.0/24", "2001:db8::/32"],
     "max_body_bytes": 1048576}
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_MAX_BODY_BYTES = 1_048_576  # 1 MiB: far above any platform's event, small enough to store
ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
ENCODINGS = ("hex", "base64")


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused: the status to answer and the reason to log (not to answer)."""

    status: int
    reason: str


@dataclass(frozen=True)
class Delivery:
    """What the validators look at."""

    body: bytes
    headers: Mapping[str, str]  # case-insensitive (Django's request.headers)
    query: Mapping[str, str]
    source_ip: str | None


def max_body_bytes(config: Mapping) -> int:
    try:
        return max(int(config.get("max_body_bytes") or DEFAULT_MAX_BODY_BYTES), 1)
    except (TypeError, ValueError):
        return DEFAULT_MAX_BODY_BYTES


def _same(given: str | bytes, expected: str | bytes) -> bool:
    given = given.encode() if isinstance(given, str) else given
    expected = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(given, expected)


def signature(body: bytes, secret: str, algorithm: str = "sha256", encoding: str = "hex", prefix: str = "") -> str:
    """The header value a sender computes: prefix + hex/base64(HMAC(secret, raw body))."""
    digest = hmac.new(secret.encode(), body, ALGORITHMS[algorithm]).digest()
    text = base64.b64encode(digest).decode() if encoding == "base64" else digest.hex()
    return prefix + text


def check_ip(allow_list: list[str], source_ip: str | None) -> Refusal | None:
    if not allow_list:
        return None
    try:
        address = ipaddress.ip_address(source_ip or "")
    except ValueError:
        return Refusal(403, f"source address {source_ip!r} is not an IP address")
    for entry in allow_list:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return None
        except ValueError:
            continue  # the form refuses bad entries; an old bad one never lets anyone in
    return Refusal(403, f"source address {address} is not in the IP allow-list")


def check_basic(config: Mapping, password: str, header: str | None) -> Refusal | None:
    if not header or not header.lower().startswith("basic "):
        return Refusal(401, "no HTTP Basic credentials")
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return Refusal(401, "unreadable HTTP Basic credentials")
    user, _, given = decoded.partition(":")
    # Both compared, always: the time taken says nothing about which one was wrong.
    user_ok = _same(user, config.get("username") or "")
    password_ok = _same(given, password or "")
    if not (user_ok and password_ok):
        return Refusal(401, "wrong HTTP Basic user name or password")
    return None


def check_shared_secret(config: Mapping, secret: str, request: Delivery) -> Refusal | None:
    name = config.get("name") or ""
    if config.get("location") == "query":
        given = request.query.get(name)
        where = f"query parameter {name}"
    else:
        given = request.headers.get(name)
        where = f"header {name}"
    if not given:
        return Refusal(401, f"no shared secret in the {where}")
    if not secret or not _same(given, secret):
        return Refusal(403, f"wrong shared secret in the {where}")
    return None


def check_hmac(config: Mapping, secret: str, request: Delivery) -> Refusal | None:
    header = config.get("header") or ""
    given = (request.headers.get(header) or "").strip()
    if not given:
        return Refusal(401, f"no signature in the header {header}")
    prefix = config.get("prefix") or ""
    algorithm = config.get("algorithm") if config.get("algorithm") in ALGORITHMS else "sha256"
    encoding = config.get("encoding") if config.get("encoding") in ENCODINGS else "hex"
    if not secret:
        return Refusal(403, "the webhook has no HMAC secret")
    expected = signature(request.body, secret, algorithm, encoding, prefix)
    # Hex may arrive in upper case; base64 is case-sensitive.
    if encoding == "hex":
        given, expected = given.lower(), expected.lower()
    if not _same(given, expected):
        return Refusal(403, f"wrong {algorithm.upper()} signature in the header {header}")
    return None


def validate(config: Mapping, secrets: Mapping, request: Delivery) -> Refusal | None:
    """The first refusal, checking cheap things first; None when the request may be stored."""
    refusal = check_ip(list(config.get("ip_allow_list") or []), request.source_ip)
    if refusal:
        return refusal
    if config.get("basic"):
        refusal = check_basic(config["basic"], secrets.get("basic_password", ""), request.headers.get("Authorization"))
        if refusal:
            return refusal
    if config.get("shared_secret"):
        refusal = check_shared_secret(config["shared_secret"], secrets.get("shared_secret", ""), request)
        if refusal:
            return refusal
    if config.get("hmac"):
        refusal = check_hmac(config["hmac"], secrets.get("hmac", ""), request)
        if refusal:
            return refusal
    return None


def credential_names(config: Mapping) -> tuple[set[str], set[str]]:
    """Header and query parameter names that carry credentials, to blank before storing a request."""
    headers = {"authorization", "cookie", "proxy-authorization"}
    query: set[str] = set()
    shared = config.get("shared_secret") or {}
    if shared.get("name"):
        (query if shared.get("location") == "query" else headers).add(shared["name"].lower())
    return headers, query


def describe(config: Mapping) -> list[str]:
    """The active validators in words, for lists and the webhook page."""
    words = []
    if config.get("hmac"):
        h = config["hmac"]
        words.append(f"HMAC {str(h.get('algorithm', 'sha256')).upper()} ({h.get('encoding', 'hex')}) "
                     f"in {h.get('header', '')}")
    if config.get("shared_secret"):
        s = config["shared_secret"]
        words.append(f"Shared secret in the {'query parameter' if s.get('location') == 'query' else 'header'} "
                     f"{s.get('name', '')}")
    if config.get("basic"):
        words.append("HTTP Basic")
    if config.get("ip_allow_list"):
        words.append(f"IP allow-list ({len(config['ip_allow_list'])})")
    return words

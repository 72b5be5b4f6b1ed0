"""One request to an OAuth 2.0 token endpoint: client authentication, a total time bound,
an honest description of any failure, and a redacted request log.

Used by the code exchange of "Grant access" (clients.oauth) and by token refresh
(clients.token_refresh). oauthlib prepares the form body and reads the answer (RFC 6749 §4.1.3,
§5, §6); the HTTP call is ours, so that:

- the client authenticates as its platform says (RFC 6749 §2.3.1): `client_secret_basic` puts
  `client_id:client_secret` (each form-encoded first) in an Authorization: Basic header and
  keeps the secret out of the body (Pipedrive); `client_secret_post` sends both in the body
  (Timely, Copper);
- the whole request, a trickling answer included, ends within TOKEN_REQUEST_TIMEOUT seconds
  (clients.deadline cuts the connection), and obeys the outbound policy (clients.outbound);
  no database connection or lock is involved;
- a failure says what the endpoint answered: status, content type and a redacted excerpt,
  instead of oauthlib's bare "missing_token".
"""
from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlencode

import requests
from django.conf import settings
from oauthlib.oauth2 import OAuth2Error
from oauthlib.oauth2.rfc6749.parameters import parse_token_response, prepare_token_request

from . import outbound
from .deadline import Deadline
from .errors import describe_request_error
from .redaction import redact_body, redact_headers, redact_text, redact_url, secret_fields

# A provider may grant other scopes than asked for; that is not an error for us.
os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")

CLIENT_SECRET_BASIC = "client_secret_basic"
CLIENT_SECRET_POST = "client_secret_post"
AUTH_METHODS = (CLIENT_SECRET_BASIC, CLIENT_SECRET_POST)
MAX_TOKEN_RESPONSE_BYTES = 256 * 1024  # a token answer is a few hundred bytes
EXCERPT = 300


def total_timeout() -> float:
    """Seconds a token request may take in all, connection and every read included."""
    return float(settings.TOKEN_REQUEST_TIMEOUT)


@dataclass
class TokenCall:
    """A token request as sent and answered: what the request log and the error messages show."""

    url: str
    data: dict
    headers: dict
    status: int | None = None
    content_type: str = ""
    body: bytes = b""
    response_headers: dict = field(default_factory=dict)
    elapsed_ms: int = 0
    error: str = ""
    sent: bool = False  # False only when nothing can have reached the endpoint (connect failed)

    def excerpt(self, secrets: list[str]) -> str:
        text = redact_body(self.body[: EXCERPT * 4].decode("utf-8", "replace"), secrets)
        text = " ".join(text.split())
        return text[:EXCERPT] + ("…" if len(text) > EXCERPT else "")

    def answered(self, secrets: list[str]) -> str:
        """'HTTP 500 (text/html): <excerpt>' in plain words, secrets removed."""
        kind = self.content_type.split(";")[0].strip() or "no content type"
        excerpt = self.excerpt(secrets)
        if not excerpt:
            return f"HTTP {self.status} ({kind}) with an empty body"
        return f"HTTP {self.status} ({kind}): {excerpt}"


class TokenRequestFailed(Exception):
    """The token endpoint gave no token. `kind` says what happened:

    - "unreachable": no answer (connection refused, timeout, total time bound) or HTTP 5xx;
    - "refused": an OAuth error answer (`oauth_error` holds its code, e.g. invalid_grant);
    - "unusable": an answer that is not a token (HTML, JSON without access_token, ...).
    The message is safe to show: secrets, codes and tokens are redacted.
    """

    def __init__(self, message: str, *, kind: str, call: TokenCall, oauth_error: str = "", reason: str = ""):
        super().__init__(message)
        self.kind, self.call, self.oauth_error = kind, call, oauth_error
        self.reason = reason or message  # for "unreachable": why, in a few words


def request_token(*, token_url: str, grant_type: str, client_id: str, client_secret: str, auth_method: str,
                  label: str, secrets: list[str], **params: str) -> tuple[dict, TokenCall]:
    """POST one token request; returns (token, call) or raises TokenRequestFailed.

    `params`: the grant's own fields (code, redirect_uri, code_verifier, refresh_token).
    `secrets`: values to redact from messages besides the client secret and `params`.
    """
    if auth_method not in AUTH_METHODS:
        raise ValueError(f"unknown token endpoint auth method {auth_method!r}")
    headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
    fields = {k: v for k, v in params.items() if v}
    if auth_method == CLIENT_SECRET_BASIC:
        # RFC 6749 §2.3.1: each part form-encoded, then base64 of "id:secret".
        pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        body = prepare_token_request(grant_type, **fields)
    else:
        body = prepare_token_request(grant_type, client_id=client_id, client_secret=client_secret, **fields)
    call = TokenCall(url=token_url, data=dict(_form(body)), headers=headers)
    hidden = [client_secret, *params.values(), *secrets]
    if "Authorization" in headers:
        hidden.append(headers["Authorization"].split(" ", 1)[1])
    _send(call, body)
    if call.error or call.status >= 500:
        reason = call.error or f"it answered {call.answered(hidden)}"
        raise TokenRequestFailed(f"the token endpoint of {label} cannot be reached: {reason}",
                                 kind="unreachable", call=call, reason=reason)
    text = call.body.decode("utf-8", "replace")
    try:
        token = dict(parse_token_response(text))
    except OAuth2Error as exc:
        if exc.error in ("missing_token", "missing_token_type") or not _looks_like_oauth_error(text):
            raise TokenRequestFailed(f"the token endpoint of {label} answered {call.answered(hidden)}, "
                                     "which is not a token", kind="unusable", call=call) from None
        detail = f" ({redact_text(exc.description, hidden)[:200]})" if exc.description else ""
        raise TokenRequestFailed(f"{label} refused the token request: {exc.error}{detail} "
                                 f"[HTTP {call.status}]", kind="refused", call=call, oauth_error=exc.error) from None
    except (ValueError, TypeError):
        raise TokenRequestFailed(f"the token endpoint of {label} answered {call.answered(hidden)}, "
                                 "which is not a token", kind="unusable", call=call) from None
    if call.status >= 400 or not token.get("access_token"):
        raise TokenRequestFailed(f"the token endpoint of {label} answered {call.answered(hidden)}, "
                                 "which is not a token", kind="unusable", call=call)
    return token, call


def _form(body: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body, keep_blank_values=True)


def _looks_like_oauth_error(text: str) -> bool:
    return '"error"' in text or text.lstrip().startswith("error=")


def _send(call: TokenCall, body: str) -> None:
    """Fill `call` with the answer, or its `error`; never longer than total_timeout().

    The session obeys the outbound policy (clients.outbound) and a clients.deadline.Deadline
    cuts the connection once the total time is spent, a trickling answer included.
    """
    budget = total_timeout()
    timeout = (min(settings.HTTP_CONNECT_TIMEOUT, budget), min(settings.HTTP_READ_TIMEOUT, budget))
    started = time.monotonic()
    session = outbound.guard(requests.Session())
    deadline = Deadline(budget)
    try:
        with session, deadline, session.post(call.url, data=body, headers=call.headers, timeout=timeout,
                                             stream=True, allow_redirects=False) as response:
            call.sent = True
            call.status = response.status_code
            call.content_type = response.headers.get("Content-Type", "")
            call.response_headers = dict(response.headers)
            chunks, size = [], 0
            for chunk in response.iter_content(chunk_size=1024):
                size += len(chunk)
                if size > MAX_TOKEN_RESPONSE_BYTES:
                    call.error = f"the answer is larger than {MAX_TOKEN_RESPONSE_BYTES} bytes"
                    break
                chunks.append(chunk)
            call.body = b"".join(chunks)
    except requests.RequestException as exc:
        refusal = outbound.refusal_in(exc)
        call.sent = call.sent or not (refusal or _never_sent(exc))
        if deadline.expired:
            call.sent = True  # it may have been received and acted on
            call.error = f"no complete answer within {budget:g} s (TOKEN_REQUEST_TIMEOUT)"
        else:
            call.error = str(refusal) if refusal else describe_request_error(exc, timeout)
    finally:
        call.elapsed_ms = int((time.monotonic() - started) * 1000)
    if deadline.expired and not call.error:  # cut off at a boundary can look like a short, whole answer
        call.error = f"no complete answer within {budget:g} s (TOKEN_REQUEST_TIMEOUT)"


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the endpoint: no connection was made."""
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | NameResolutionError)


def log_token_call(client, call: TokenCall, error: str, secrets: list[str], *,
                   run_id: int | None = None, task_id: int | None = None) -> None:
    """A RequestLog for one token request: always on failure, else only if the client logs.

    Credentials are redacted by name (client_secret, code, code_verifier, refresh_token,
    access_token, Authorization) and by value (the client's secrets, `secrets`, and every
    credential the answer carried).
    """
    from .models import RequestLog

    failed = bool(error) or call.status is None or call.status >= 400
    if not (failed or client.log_requests):
        return
    text = call.body.decode("utf-8", "replace")
    try:
        import json

        answer = json.loads(text) if text.strip() else None
    except ValueError:
        answer = None
    hidden = [*client.secret_values(), *(s for s in secrets if s), *secret_fields(answer)]
    if "Authorization" in call.headers:
        hidden.append(call.headers["Authorization"].split(" ", 1)[-1])
    limit = settings.REQUEST_LOG_BODY_LIMIT
    RequestLog.objects.create(
        client_id=client.pk, run_id=run_id, task_id=task_id, method="POST",
        url=redact_url(call.url, hidden), status=call.status, duration_ms=call.elapsed_ms,
        request_headers=redact_headers(call.headers, hidden),
        request_body=redact_body(urlencode(call.data), hidden)[:limit],
        response_headers=redact_headers(call.response_headers, hidden),
        response_body=redact_body(text, hidden)[:limit],
        error=redact_text(error, hidden),
    )

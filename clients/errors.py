"""Why a request got no answer, in words a user can act on.

Shared by the API calls (`clients.http`) and the token requests (`clients.oauth`), so a dead
platform reads the same on a task, a Run test and a failed Grant access.
"""
from __future__ import annotations

import requests

# A URL that can never work: retrying it is pointless, the user must fix the setting it came from.
BAD_URL_ERRORS = (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)


def describe_request_error(exc: requests.RequestException, timeout: tuple[float, float]) -> str:
    """The reason `exc` gave no response; `timeout` is the (connect, read) pair the request used."""
    from .outbound import refusal_in

    refused = refusal_in(exc)
    if refused is not None:
        return str(refused)
    if isinstance(exc, requests.ConnectTimeout):
        return f"no connection within {timeout[0]:g} s (HTTP_CONNECT_TIMEOUT)"
    if isinstance(exc, requests.ReadTimeout):
        return f"no answer within {timeout[1]:g} s (HTTP_READ_TIMEOUT)"
    if isinstance(exc, requests.exceptions.SSLError):
        return "the TLS handshake failed (certificate or protocol problem)"
    if isinstance(exc, requests.ConnectionError):
        return "connection refused or reset"
    if isinstance(exc, BAD_URL_ERRORS):
        return "the URL is not valid (its scheme or host is missing or malformed)"
    return type(exc).__name__

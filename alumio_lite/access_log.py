"""Keep one-time OAuth values and credentials out of the web servers' access logs.

The provider sends the browser to the Redirect URI with `?code=...&state=...`; runserver
("django.server") and gunicorn log every request line, query string and Referer as they
came. Here the values of `code`, `state` and every credential parameter name
(clients.redaction.SECRET_NAMES) become [redacted] before a line is written:

- RedactQueryFilter, on the "django.server" logger (installed by clients.apps);
- GunicornLogger, gunicorn's logger_class (gunicorn.conf.py at the project root, which
  gunicorn reads from the directory it starts in).
"""
from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
# The OAuth callback's one-time values; a Grant access answer is also an `error_description`
# with nothing secret, so it stays readable.
ALWAYS = ("code", "state")


def _names() -> str:
    from clients.redaction import SECRET_NAMES

    return "|".join(re.escape(n) for n in sorted({*ALWAYS, *SECRET_NAMES}, key=len, reverse=True))


_PARAM = re.compile(rf"(?i)([?&](?:{_names()})=)[^&\s\"']*")


def redact_query(text: str) -> str:
    """`text` with the values of code, state and credential query parameters replaced."""
    return _PARAM.sub(lambda m: m.group(1) + REDACTED, text) if "=" in text else text


class RedactQueryFilter(logging.Filter):
    """For runserver's request lines: `"GET /cb?code=[redacted]&state=[redacted] HTTP/1.1" 302 0`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_query(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class GunicornLogger(Logger):
    """gunicorn's logger with every access-log atom (request line, query, Referer, ...) redacted."""

    def atoms(self, resp, req, environ, request_time):  # noqa: ANN001 - gunicorn's signature
        atoms = super().atoms(resp, req, environ, request_time)
        return {k: redact_query(v) if isinstance(v, str) else v for k, v in atoms.items()}

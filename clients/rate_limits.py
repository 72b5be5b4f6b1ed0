"""What a platform's answer says about its rate limit: waits after a 429, live limit headers.

Moved out of clients.http so the session and the shared rate budget (clients.rate_budget) read
the same headers the same way. Pure functions of a platform's `RateLimit` rule and the headers.
"""
from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from .platforms.base import RateLimit


def wait_after_429(rule: RateLimit, headers: Mapping[str, str], attempt: int = 0) -> float:
    """Seconds to wait after a 429: Retry-After, else the platform's reset header, else backoff."""
    if rule.retry_after_header:
        wait = parse_retry_after(headers.get(rule.retry_after_header))
        if wait is not None:
            return wait
    reset = reset_seconds(rule, headers)
    if reset is not None:
        return reset
    base = rule.default_wait * (2**attempt)
    return base + random.uniform(0, base / 4)


def reset_seconds(rule: RateLimit, headers: Mapping[str, str]) -> float | None:
    """Seconds until the platform's window resets, from its reset header (None without one)."""
    if not rule.reset_header or headers.get(rule.reset_header) in (None, ""):
        return None
    try:
        value = float(headers[rule.reset_header])
    except ValueError:
        return None
    return max(0.0, value - time.time()) if rule.reset_is_epoch else max(0.0, value)


def header_int(headers: Mapping[str, str], name: str | None) -> int | None:
    """A whole, non-negative number from a header (None when absent or not a number)."""
    if not name:
        return None
    raw = (headers.get(name) or "").strip()
    try:
        value = int(float(raw))
    except (ValueError, OverflowError):
        return None
    return value if value >= 0 else None


def daily_budget_spent(rule: RateLimit, headers: Mapping[str, str]) -> str:
    """The name of the platform's daily-budget header that reads 0, or "" if none does."""
    for name in rule.daily_budget_headers:
        if (headers.get(name) or "").strip() == "0":
            return name
    return ""


def seconds_until_next_utc_day(now: datetime | None = None) -> float:
    """Seconds from `now` (default: the current time) to the next 00:00 UTC."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (tomorrow - now).total_seconds()


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if value in (None, ""):
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())

"""A shared rate budget per HTTP Client: every worker process and thread paces to one limit.

`ClientSession` asks `budget.take(max_wait)` just before each request and waits the slot's
`wait` (or raises RateLimited when the wait is beyond what it may still wait), then tells the
budget what the platform answered with `budget.observe(status, headers)`:

- the limit is the HTTP Client's "Requests per minute" when set (0 = no budget at all), else
  the platform's documented figure (`RateLimit.limit` per `window`, clients/platforms/*.py),
  refined live by its limit header (Picqer X-RateLimit-Limit, Pipedrive x-ratelimit-limit);
- a 429 pauses everyone for the wait it asks (Retry-After, reset header, else the platform's
  default wait), and so does a remaining header at 0 (until its reset header, else the default);
- the state lives in Redis when the broker is Redis, else in the database (clients.rate_budget.stores).

HTTP_RATE_BUDGET=0 turns it off everywhere (calls go as before: 429s handled as they come).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from .. import rate_limits
from . import pacing
from .pacing import Policy, Slot, State

log = logging.getLogger(__name__)

__all__ = ["Budget", "NoBudget", "Slot", "for_session", "describe"]


class NoBudget:
    """No shared budget: every call may go at once (HTTP_RATE_BUDGET=0, or the client's 0)."""

    enabled = False

    def take(self, max_wait: float) -> Slot:
        return Slot(0.0)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        return None


class Budget:
    enabled = True

    def __init__(self, client_id: int, platform, policy: Policy, store=None):
        from .stores import default_store

        self.client_id = client_id
        self.platform = platform
        self.rule = platform.rate_limit
        self.policy = policy
        self.store = store or default_store()
        self._seen_limit: int | None = None
        self._failed_at = 0.0

    def take(self, max_wait: float) -> Slot:
        """A slot to send in `slot.wait` seconds, or (not granted) one further away than `max_wait`."""
        try:
            return self.store.change(self.client_id, lambda state, now: pacing.take(state, now, self.policy, max_wait))
        except Exception as exc:  # noqa: BLE001 - the budget must never stop a call by failing itself
            self._warn(exc)
            return Slot(0.0)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """What the platform's answer says for everyone: its live limit, a 429, 0 remaining."""
        try:
            limit = rate_limits.header_int(headers, self.rule.limit_header)
            if limit and limit != self._seen_limit:
                self._seen_limit = limit
                self.store.change(self.client_id, lambda state, now: (None, pacing.learn(state, now, limit)))
            seconds, reason = self.pause_for(status, headers)
            if seconds:
                self.store.change(self.client_id, lambda state, now: (None, pacing.pause(state, now, seconds, reason)))
        except Exception as exc:  # noqa: BLE001
            self._warn(exc)

    def pause_for(self, status: int, headers: Mapping[str, str]) -> tuple[float, str]:
        """(seconds everyone should hold off, why): after a 429, or when the platform has 0 left."""
        label = self.platform.label
        if status == 429:
            spent = rate_limits.daily_budget_spent(self.rule, headers)
            if spent:
                reason = f"{label}'s daily API budget is used up ({spent}: 0)"
                return rate_limits.seconds_until_next_utc_day() + 60, reason
            seconds = min(rate_limits.wait_after_429(self.rule, headers), float(settings.HTTP_MAX_RETRY_AFTER))
            return seconds, f"paused after {label} answered HTTP 429 (asked to wait {seconds:.0f} s)"
        if status < 400 and rate_limits.header_int(headers, self.rule.remaining_header) == 0:
            reset = rate_limits.reset_seconds(self.rule, headers)
            seconds = self.rule.default_wait if reset is None else reset
            seconds = min(seconds, float(settings.HTTP_MAX_RETRY_AFTER))
            return seconds, f"paused: {label} said {self.rule.remaining_header}: 0 (for {seconds:.0f} s)"
        return 0.0, ""

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._failed_at > 60:
            self._failed_at = now
            log.warning("rate budget of HTTP Client %s unavailable, calls go unpaced: %s", self.client_id, exc)


def refusal(platform, slot: Slot, max_wait: float) -> str:
    """The RateLimited message when the next slot is further away than a call may wait."""
    why = f": {slot.reason}" if slot.reason else ""
    return (f"{platform.label}'s shared rate budget for this HTTP Client has no free slot for {slot.wait:.0f} s"
            f"{why}; calls wait at most {max_wait:g} s (HTTP_MAX_RATE_LIMIT_WAIT)")


def policy_for(client, platform) -> Policy:
    rule = platform.rate_limit
    return Policy(configured=client.rate_limit_per_minute or None, limit=rule.limit, window=rule.window,
                  headroom=float(getattr(settings, "HTTP_RATE_BUDGET_HEADROOM", 0.02)))


def for_session(client, platform, store=None) -> Budget | NoBudget:
    """The budget a ClientSession of `client` spends from."""
    if not getattr(settings, "HTTP_RATE_BUDGET", True) or client.pk is None or client.rate_limit_per_minute == 0:
        return NoBudget()
    return Budget(client.pk, platform, policy_for(client, platform), store)


# --------------------------------------------------------------------------- for the dashboard


@dataclass
class Summary:
    """One client's budget as the pages show it."""

    enabled: bool
    per_minute: float | None = None  # the pace in force (before the headroom); None: no pace
    source: str = ""  # "Picqer's documented limit: …", "set on this HTTP Client", …
    used: int = 0  # requests this minute so far
    used_before: int = 0  # requests in the minute before
    paused_until: datetime | None = None
    pause_reason: str = ""

    @property
    def load(self) -> int | None:
        """Last minute's use as a percentage of the pace (None without a pace)."""
        if not self.per_minute:
            return None
        return round(100 * max(self.used, self.used_before) / self.per_minute)


def describe(clients) -> dict[int, Summary]:
    """Summaries by client id, in one read of the store."""
    from ..platforms.registry import PLATFORMS
    from .stores import default_store

    clients = list(clients)
    out: dict[int, Summary] = {}
    if not getattr(settings, "HTTP_RATE_BUDGET", True):
        return {c.pk: Summary(False, source="turned off for this installation (HTTP_RATE_BUDGET=0)") for c in clients}
    wanted = [c.pk for c in clients if c.rate_limit_per_minute != 0]
    try:
        states, now = default_store().read(wanted) if wanted else ({}, time.time())
    except Exception as exc:  # noqa: BLE001 - a page must still show
        log.warning("rate budgets could not be read: %s", exc)
        states, now = {}, time.time()
    for client in clients:
        platform = PLATFORMS.get(client.platform)
        if client.rate_limit_per_minute == 0 or platform is None:
            out[client.pk] = Summary(False, source="off for this HTTP Client (Requests per minute: 0)")
            continue
        state = states.get(client.pk, State())
        rate, origin = policy_for(client, platform).rate(state, now)
        if origin == "HTTP Client setting":
            source = "set on this HTTP Client"
        elif origin == "platform header":
            header = platform.rate_limit.limit_header
            source = f"{platform.label}'s {header}: {state.learned_limit} per {platform.rate_limit.window:g} s"
        else:
            source = platform.rate_limit.source or f"{platform.label} documents no limit"
        used, before = pacing.usage(state, now)
        paused = (datetime.fromtimestamp(state.paused_until, UTC) if state.paused_until > now else None)
        out[client.pk] = Summary(True, per_minute=round(rate * 60, 3) if rate else None, source=source, used=used,
                                 used_before=before, paused_until=paused,
                                 pause_reason=state.pause_reason if paused else "")
    return out

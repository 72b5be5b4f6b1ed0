"""The budget's arithmetic, with no storage: pure functions of a state and the time.

Every process spends from one state per HTTP Client. A request takes the next free *slot*:
`start = max(now, next_free, paused_until)`, then `next_free = start + interval`. The caller
waits `start - now` (holding nothing) and sends. So slots are at least `interval` apart across
every process, and any window of W seconds holds at most about W / interval + 1 of them: the
limit, less the headroom kept for jitter between our clock and the platform's.

A slot further away than the caller may wait is not taken (the state is left as it was), so a
refused caller costs the others nothing. A 429, or a platform saying it has 0 requests left,
pauses everyone (`paused_until`); the platform's live limit header replaces the documented
figure (`learned_limit`), unless the HTTP Client sets a lower one.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

LEARNED_FOR = 24 * 3600.0  # a limit header seen is trusted this long without being seen again
FIELDS = ("next_free", "paused_until", "pause_reason", "learned_limit", "learned_at", "minute", "used",
          "used_before")


@dataclass(frozen=True)
class State:
    next_free: float = 0.0
    paused_until: float = 0.0
    pause_reason: str = ""
    learned_limit: int | None = None
    learned_at: float = 0.0
    minute: int = 0  # the Unix minute `used` counts
    used: int = 0
    used_before: int = 0  # slots in the minute before `minute`

    @classmethod
    def from_mapping(cls, values) -> State:
        """From a database row or a Redis hash (strings), missing fields at their defaults."""
        values = {(k.decode() if isinstance(k, bytes) else k): v for k, v in values.items()}
        out = {}
        for name in FIELDS:
            value = values.get(name)
            if isinstance(value, bytes):
                value = value.decode()
            if value in (None, ""):
                continue
            if name == "pause_reason":
                out[name] = str(value)
            elif name in ("learned_limit", "minute", "used", "used_before"):
                out[name] = int(float(value))
            else:
                out[name] = float(value)
        return cls(**out)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Policy:
    """How fast one HTTP Client may go: its own setting, else the platform's documented limit."""

    configured: int | None  # requests per minute set on the HTTP Client (None: platform default)
    limit: int | None  # the platform's documented requests per `window`
    window: float  # seconds
    headroom: float  # share of the limit kept free (0.02)

    def rate(self, state: State, now: float) -> tuple[float | None, str]:
        """(requests per second, where that figure comes from); None means no pace, only pauses."""
        learned = state.learned_limit if state.learned_limit and now - state.learned_at < LEARNED_FOR else None
        learned_rate = learned / self.window if learned else None
        if self.configured:
            mine = self.configured / 60.0
            if learned_rate is not None and learned_rate < mine:
                return learned_rate, "platform header"
            return mine, "HTTP Client setting"
        if learned_rate is not None:
            return learned_rate, "platform header"
        if self.limit:
            return self.limit / self.window, "platform default"
        return None, "none"

    def interval(self, state: State, now: float) -> float:
        rate, _ = self.rate(state, now)
        if not rate:
            return 0.0
        return 1.0 / (rate * (1.0 - min(max(self.headroom, 0.0), 0.5)))


@dataclass(frozen=True)
class Slot:
    """The answer to "may I send?": wait `wait` seconds then send, or (not granted) don't wait that long."""

    wait: float
    granted: bool = True
    reason: str = ""  # why there is a wait: "paused after HTTP 429 …" or "pacing 588 a minute"


def take(state: State, now: float, policy: Policy, max_wait: float) -> tuple[Slot, State | None]:
    """The next slot, and the new state (None when the slot is refused: the state stays)."""
    interval = policy.interval(state, now)
    start = max(now, state.paused_until, state.next_free if interval else now)
    wait = start - now
    if wait > 0 and start == state.paused_until:
        reason = state.pause_reason or "paused"
    elif wait > 0:
        reason = f"pacing {60.0 / interval:.0f} requests a minute"
    else:
        reason = ""
    if not math.isfinite(wait) or wait > max(max_wait, 0.0):
        return Slot(wait, granted=False, reason=reason), None
    changes: dict = {}
    if interval:
        changes["next_free"] = start + interval
    minute = int(start // 60)
    if minute == state.minute:
        changes["used"] = state.used + 1
    elif minute > state.minute:
        changes.update(minute=minute, used=1, used_before=state.used if minute == state.minute + 1 else 0)
    else:  # a clock a little behind another process's: count it in the current minute
        changes["used"] = state.used + 1
    return Slot(wait, reason=reason), replace(state, **changes)


def pause(state: State, now: float, seconds: float, reason: str) -> State | None:
    """Nobody sends for `seconds` from `now`; None when an equal or longer pause is already set."""
    until = now + max(0.0, seconds)
    if not math.isfinite(until) or until <= state.paused_until:
        return None
    return replace(state, paused_until=until, pause_reason=reason[:300])


def learn(state: State, now: float, limit: int) -> State | None:
    """The platform's live limit per window; None when nothing needs writing."""
    if limit <= 0:
        return None
    if state.learned_limit == limit and now - state.learned_at < LEARNED_FOR / 4:
        return None
    return replace(state, learned_limit=limit, learned_at=now)


def usage(state: State, now: float) -> tuple[int, int]:
    """(requests this minute so far, requests in the minute before)."""
    minute = int(now // 60)
    if state.minute == minute:
        return state.used, state.used_before
    if state.minute == minute - 1:
        return 0, state.used
    if state.minute > minute:  # slots taken ahead of this clock
        return state.used, state.used_before
    return 0, 0

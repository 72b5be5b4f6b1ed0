"""Fakes that enforce a rate limit the way a platform does: N requests per W seconds, 429 beyond.

    with LimitedPipedrive(limit=40, window=10) as fake:   # sliding window, Retry-After on a 429
        ...
    fake.limiter.refused            # 429s answered
    fake.limiter.max_in_window()    # most requests accepted in any W seconds (<= limit by construction)

Counted as requests arrive, under the server's lock, on the server's monotonic clock. With
`headers=True` each answer also says the limit and what is left (Picqer's X-RateLimit-* names);
`headers="remaining"` only what is left.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Any

from .platforms import FakePicqer, FakePipedrive
from .server import Received, Reply


class Limiter:
    """`limit` requests per `window` seconds: sliding (any W seconds) or fixed (W-second buckets)."""

    def __init__(self, limit: int, window: float, *, sliding: bool = True):
        self.limit, self.window, self.sliding = limit, window, sliding
        self.recent: deque[float] = deque()
        self.accepted: list[float] = []  # arrival time of every accepted request
        self.refused = 0
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def admit(self) -> tuple[bool, int, float]:
        """(accepted?, requests left in this window, seconds until one is free)."""
        with self._lock:
            now = time.monotonic()
            if self.sliding:
                while self.recent and self.recent[0] <= now - self.window:
                    self.recent.popleft()
                free_in = (self.recent[0] + self.window - now) if self.recent else 0.0
            else:
                bucket_start = self.started + ((now - self.started) // self.window) * self.window
                while self.recent and self.recent[0] < bucket_start:
                    self.recent.popleft()
                free_in = bucket_start + self.window - now
            if len(self.recent) >= self.limit:
                self.refused += 1
                return False, 0, max(free_in, 0.001)
            self.recent.append(now)
            self.accepted.append(now)
            return True, self.limit - len(self.recent), 0.0

    def max_in_window(self) -> int:
        """The most accepted requests in any `window` seconds (sliding; for fixed windows, per bucket)."""
        times = sorted(self.accepted)
        if not self.sliding:
            buckets: dict[int, int] = {}
            for t in times:
                key = int((t - self.started) // self.window)
                buckets[key] = buckets.get(key, 0) + 1
            return max(buckets.values(), default=0)
        best, first = 0, 0
        for last, t in enumerate(times):
            while times[first] <= t - self.window:
                first += 1
            best = max(best, last - first + 1)
        return best

    def rate(self) -> float:
        """Accepted requests per second between the first and the last one accepted."""
        if len(self.accepted) < 2:
            return 0.0
        return (len(self.accepted) - 1) / (self.accepted[-1] - self.accepted[0])


class _Limited:
    limit_header = "X-RateLimit-Limit"
    remaining_header = "X-RateLimit-Remaining"

    def __init__(self, *args: Any, limit: int, window: float, sliding: bool = True, headers: bool | str = False,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.limiter = Limiter(limit, window, sliding=sliding)
        self.send_limit_headers = headers

    def answer(self, request: Received) -> Reply:
        ok, remaining, free_in = self.limiter.admit()
        extra = {}
        if self.send_limit_headers:
            extra[self.remaining_header] = str(remaining)
            if self.send_limit_headers != "remaining":
                extra[self.limit_header] = str(self.limiter.limit)
        if not ok:
            with self._lock:
                self.request_count += 1
            return Reply(429, {"error": True, "error_code": 28, "error_message": "Rate limit exceeded"},
                         {"Retry-After": str(math.ceil(free_in)), **extra})
        reply = super().answer(request)
        return Reply(reply.status, reply.body, {**reply.headers, **extra})


class LimitedPipedrive(_Limited, FakePipedrive):
    pass


class LimitedPicqer(_Limited, FakePicqer):
    pass

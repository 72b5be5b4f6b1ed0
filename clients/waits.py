"""How long a platform may make us wait after a 429: its own figure, within HTTP_MAX_RETRY_AFTER.

`Retry-After: 999999` would park a task for 11 days, and `inf` or `1e400` is no time at all
to compute with; a wait above the maximum (or not a finite number) becomes the maximum, and
the error says so, so the task shows both what the platform asked and what we do.
"""
from __future__ import annotations

import math

from django.conf import settings


def capped(seconds: float) -> tuple[float, str]:
    """(the wait to use, "" or a note saying it was capped)."""
    cap = float(settings.HTTP_MAX_RETRY_AFTER)
    if math.isfinite(seconds) and seconds <= cap:
        return max(seconds, 0.0), ""
    asked = f"{seconds:.0f} s" if math.isfinite(seconds) else "an endless wait"
    return cap, f"; it asked for {asked}, waits are capped at {cap:g} s (HTTP_MAX_RETRY_AFTER)"

"""Codes computed the way an authenticator app does: from the set-up key (base32, as shown on the page)."""
from __future__ import annotations

import base64
import time

from django_otp.oath import TOTP


def code_from_secret(secret: str, steps_ahead: int = 0) -> str:
    """The 6-digit TOTP code for `secret` (the base32 key as shown, spaces allowed), `steps_ahead` x 30 s later.

    A code is accepted once; the next sign-in in the same 30 s uses steps_ahead=1 (within the one-step tolerance).
    """
    key = base64.b32decode(secret.replace(" ", "").upper())
    totp = TOTP(key, step=30, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def wrong_code(secret: str) -> str:
    """A 6-digit code that is none of the ones accepted now (previous, current, next step)."""
    accepted = {code_from_secret(secret, step) for step in (-1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in accepted)

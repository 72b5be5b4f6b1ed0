"""Codes computed the way an authenticator app does: from the set-up key (base32, as shown on the page);
turning two-factor on through the account page and signing in with password and code."""
from __future__ import annotations

import base64
import html
import re
import time

from django.urls import reverse
from django_otp.oath import TOTP

from tests.conftest import PASSWORD

IP = "203.0.113.7"
PAGE = "/account/two-factor/"


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


def recovery_codes_in(page: str) -> list[str]:
    """The recovery codes a page shows (only the response that made them does)."""
    block = re.search(r'<ol class="codes" id="recovery-codes">(.*?)</ol>', page, re.S)
    return re.findall(r"<code>([a-z2-7-]+)</code>", html.unescape(block.group(1))) if block else []


def turn_on_with_codes(client, user) -> tuple[str, list[str]]:
    """Set up two-factor for `user` through the account page: (the key as the page showed it, the recovery codes)."""
    from accounts.models import TwoFactorDevice

    client.force_login(user)
    page = client.post(PAGE, {"action": "start"}).content.decode()
    assert "<svg" in page and "Turn on two-factor" in page
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', page).group(1)
    # The previous step's code (accepted: one step of tolerance), so that the sign-ins after it may use
    # the current one (each code is accepted once).
    # If a 30 s step begins between computing the code and the server checking it, the code is two steps
    # old and refused (a rare, load-dependent flake): then, and only then, confirm again with a fresh code.
    for _ in range(2):
        step = int(time.time() // 30)
        response = client.post(PAGE, {"action": "confirm", "code": code_from_secret(secret, -1)})
        if response.status_code == 200 and "<svg" in response.content.decode() and int(time.time() // 30) != step:
            continue
        break
    assert response.status_code == 200 and "Two-factor sign-in is on" in response.content.decode()
    assert TwoFactorDevice.objects.get(user=user).confirmed
    codes = recovery_codes_in(response.content.decode())
    client.logout()
    return secret, codes


def turn_on(client, user) -> str:
    return turn_on_with_codes(client, user)[0]


def password(client, user, ip=IP):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD}, REMOTE_ADDR=ip)


def code(client, value, ip=IP):
    return client.post(reverse("login_code"), {"code": value}, REMOTE_ADDR=ip)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session

"""In the browser: turn two-factor on (key read from the page, codes computed here as an authenticator app
would), sign out, sign in with password + code; a wrong code is refused with a clear message. The recovery
codes shown on turning on are read from the page and one signs in once (the page then counts 9 left)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import RecoveryCodes, TwoFactorDevice
from tests.accounts.two_factor_helpers import code_from_secret, wrong_code
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _password_step(page: Page, user) -> None:
    """The sign-in page's first step (user name and password); two-factor then asks for a code."""
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/login/code/")


def test_turn_on_sign_out_sign_in_with_a_code(page: Page, consultant, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code then the right one at once (back-off: unit tests)
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    page.locator("nav.sidebar .account").get_by_role("link", name=consultant.username).click()
    expect(page.locator("h1")).to_have_text("Two-factor sign-in")
    page.get_by_role("button", name="Set up two-factor").click()
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.locator("#two-factor-secret").inner_text()
    page.fill("#id_code", code_from_secret(secret))
    page.get_by_role("button", name="Turn on two-factor").click()
    expect(page.locator(".messages")).to_contain_text("Two-factor sign-in is on")
    expect(page.locator("main")).not_to_contain_text(secret)
    assert TwoFactorDevice.objects.get(user=consultant).confirmed
    expect(page.locator("#new-recovery-codes")).to_contain_text("Save these now")
    expect(page.locator("#recovery-codes code")).to_have_count(10)
    recovery = page.locator("#recovery-codes code").all_inner_texts()
    assert all(re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", c) for c in recovery)
    page.reload()  # the codes are shown once: a fresh page only counts them
    expect(page.locator("#recovery-remaining")).to_contain_text("10 of 10 unused")
    expect(page.locator("main")).not_to_contain_text(recovery[0])

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    _password_step(page, consultant)
    expect(page.locator("h1")).to_have_text("Two-factor code")

    page.fill("#id_code", wrong_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("[role=alert]")).to_contain_text("That code is not right")
    page.goto("/connections/routes/")  # still not signed in
    page.wait_for_url("**/accounts/login/**")

    _password_step(page, consultant)
    page.fill("#id_code", code_from_secret(secret, 1))  # the next code: the set-up's code is used up
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    expect(page.locator("nav.sidebar .account")).to_contain_text(consultant.username)

    # Signing in without the phone: a recovery code read from the set-up page, once.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    _password_step(page, consultant)
    page.get_by_text("No phone at hand? Use a recovery code").click()
    page.fill("#id_recovery_code", recovery[3])
    page.get_by_role("button", name="Use recovery code").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    expect(page.locator(".messages")).to_contain_text("9 recovery codes left")
    assert RecoveryCodes.remaining(consultant) == 9
    page.locator("nav.sidebar .account").get_by_role("link", name=consultant.username).click()
    expect(page.locator("#recovery-remaining")).to_contain_text("9 of 10 unused")

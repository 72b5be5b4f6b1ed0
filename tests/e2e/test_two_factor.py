"""In the browser: turn two-factor on (key read from the page, codes computed here as an authenticator app
would), sign out, sign in with password + code; a wrong code is refused with a clear message."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import TwoFactorDevice
from tests.accounts.two_factor_helpers import code_from_secret, wrong_code
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_turn_on_sign_out_sign_in_with_a_code(page: Page, consultant, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code then the right one at once (back-off: unit tests)
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

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    page.fill("#id_username", consultant.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/login/code/")
    expect(page.locator("h1")).to_have_text("Two-factor code")

    page.fill("#id_code", wrong_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("[role=alert]")).to_contain_text("That code is not right")
    page.goto("/connections/routes/")  # still not signed in
    page.wait_for_url("**/accounts/login/**")

    page.fill("#id_username", consultant.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/login/code/")
    page.fill("#id_code", code_from_secret(secret, 1))  # the next code: the set-up's code is used up
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    expect(page.locator("nav.sidebar .account")).to_contain_text(consultant.username)

"""Recovery codes for two-factor sign-in (django-otp's static plugin, stored hashed): 10 shown once when two-factor
is turned on, each signs in once in place of the app's code, wrong ones count for django-axes like wrong app codes,
"Generate new recovery codes" (a code or the password) replaces the set, turning off and an Admin reset delete them,
and they appear nowhere else: not on later pages, not in the database in clear, the admin, exports or logs."""
from __future__ import annotations

import io
import re

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from accounts.models import RecoveryCodes, TwoFactorDevice
from accounts.two_factor import CODE_OR_PASSWORD, WRONG_PASSWORD, WRONG_RECOVERY_CODE
from tests.conftest import PASSWORD

from .two_factor_helpers import PAGE, code, code_from_secret, password, recovery_codes_in, signed_in, turn_on_with_codes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_backoff(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # wrong then right at once; the back-off has a test of its own
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.wsgi_request._messages)


def test_turning_on_shows_ten_codes_once(client, viewer):
    client.force_login(viewer)
    page = client.post(PAGE, {"action": "start"}).content.decode()
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', page).group(1)
    shown = client.post(PAGE, {"action": "confirm", "code": code_from_secret(secret, -1)})
    text = shown.content.decode()
    codes = recovery_codes_in(text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", c) for c in codes)
    assert "Save these now" in text and "Each code works once" in text and "not shown again" in text
    assert "no-store" in shown["Cache-Control"]  # not kept by a cache, nor shown again by the back button
    later = client.get(PAGE).content.decode()
    assert "10 of 10 unused" in later and "Your recovery codes" not in later
    assert not any(c in later or c.replace("-", "") in later for c in codes)
    assert LogEntry.objects.filter(additional_data__event="Recovery codes generated", actor=viewer).exists()


def test_codes_are_stored_hashed(client, viewer):
    _, codes = turn_on_with_codes(client, viewer)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {StaticToken._meta.db_table}")
        raw = repr(cursor.fetchall())
    assert len(StaticToken.objects.filter(device__user=viewer)) == 10
    for c in codes:
        assert c not in raw and c.replace("-", "") not in raw
    # The stored value itself is no code: django-otp's own lookup would take it, ours hashes what it is given.
    stored = StaticToken.objects.filter(device__user=viewer).first().token
    password(client, viewer)
    assert WRONG_RECOVERY_CODE in code(client, stored).content.decode()
    assert StaticToken.objects.filter(device__user=viewer).count() == 10


def test_a_recovery_code_signs_in_once(client, viewer):
    _, codes = turn_on_with_codes(client, viewer)
    code_page = client.get(reverse("login_code"))
    assert code_page.status_code == 302  # no password yet
    password(client, viewer)
    assert "Use a recovery code" in client.get(reverse("login_code")).content.decode()
    typed = codes[0].replace("-", " ").upper()  # what people type: other case, spaces between the groups
    response = code(client, typed)
    assert response.status_code == 302 and response.url == reverse("home") and signed_in(client)
    assert "9 recovery codes left" in messages_of(response)
    entry = LogEntry.objects.get(additional_data__event="Signed in with a recovery code")
    assert entry.actor == viewer and entry.object_pk == str(viewer.pk) and "9 unused" in entry.changes_text
    assert codes[0] not in repr(list(LogEntry.objects.values()))
    # The same code again fails; another one works.
    client.post(reverse("logout"))
    password(client, viewer)
    refused = code(client, codes[0])
    assert refused.status_code == 200 and WRONG_RECOVERY_CODE in refused.content.decode() and not signed_in(client)
    assert 'details class="recovery" open' in refused.content.decode()
    assert code(client, codes[1]).status_code == 302 and signed_in(client)
    assert RecoveryCodes.remaining(viewer) == 8


def test_wrong_recovery_codes_count_as_failed_sign_ins(client, viewer):
    _, codes = turn_on_with_codes(client, viewer)
    password(client, viewer)
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert WRONG_RECOVERY_CODE in code(client, f"aaaa-bbbb-cccc-ddd{i + 2}").content.decode()
    locked = code(client, "not-a-code-at-all")
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    assert code(client, codes[0]).status_code == 429 and not signed_in(client)  # even a right one, while locked
    assert RecoveryCodes.remaining(viewer) == 10  # and it was not used up


def test_the_recovery_codes_back_off_after_a_wrong_one(client, viewer, settings):
    _, codes = turn_on_with_codes(client, viewer)
    settings.OTP_STATIC_THROTTLE_FACTOR = 600
    password(client, viewer)
    code(client, "aaaa-bbbb-cccc-dddd")
    assert "wait a minute" in code(client, codes[0]).content.decode() and not signed_in(client)
    assert RecoveryCodes.remaining(viewer) == 10


def test_few_codes_left_warns(client, viewer):
    _, codes = turn_on_with_codes(client, viewer)
    device = RecoveryCodes.objects.get(user=viewer)
    keep = {device.digest(c) for c in codes[:4]}
    device.token_set.exclude(token__in=keep).delete()  # as if six had been used
    password(client, viewer)
    response = code(client, codes[0])
    assert "3 recovery codes left" in messages_of(response) and "Generate new ones" in messages_of(response)
    page = client.get(PAGE).content.decode()
    assert "3 of 10 unused" in page and "Only a few are left" in page


def test_generating_new_codes_needs_a_code_or_the_password_and_replaces_the_set(client, viewer):
    secret, old = turn_on_with_codes(client, viewer)
    client.force_login(viewer)
    nothing = client.post(PAGE, {"action": "regenerate"}).content.decode()
    assert CODE_OR_PASSWORD in nothing and not recovery_codes_in(nothing)
    wrong = client.post(PAGE, {"action": "regenerate", "password": "not-the-password"}, REMOTE_ADDR="203.0.113.7")
    assert WRONG_PASSWORD in wrong.content.decode() and not recovery_codes_in(wrong.content.decode())
    assert AccessAttempt.objects.get(username=viewer.username).failures_since_start == 1  # counted like sign-in
    new = recovery_codes_in(client.post(PAGE, {"action": "regenerate", "password": PASSWORD}).content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert RecoveryCodes.remaining(viewer) == 10
    by_code = recovery_codes_in(client.post(PAGE, {"action": "regenerate",
                                                   "code": code_from_secret(secret)}).content.decode())
    assert len(by_code) == 10 and not set(by_code) & set(new)
    assert LogEntry.objects.filter(additional_data__event="Recovery codes generated", actor=viewer).count() == 3
    assert "10 of 10 unused" in client.get(PAGE).content.decode()
    client.logout()
    password(client, viewer)
    for earlier in (old[0], new[0]):
        assert WRONG_RECOVERY_CODE in code(client, earlier).content.decode()
    assert code(client, by_code[0]).status_code == 302 and signed_in(client)


def test_turning_off_with_a_recovery_code_deletes_the_codes(client, viewer):
    _, codes = turn_on_with_codes(client, viewer)  # the lost-phone path: sign in and turn off with recovery codes
    password(client, viewer)
    code(client, codes[0])
    turned_off = client.post(PAGE, {"action": "disable", "code": codes[1]})
    assert turned_off.status_code == 302
    assert not TwoFactorDevice.objects.filter(user=viewer).exists()
    assert not StaticDevice.objects.filter(user=viewer).exists() and not StaticToken.objects.exists()
    assert LogEntry.objects.filter(additional_data__event="Two-factor turned off", actor=viewer).exists()


def test_an_admin_reset_deletes_the_codes(client, viewer, admin_user):
    turn_on_with_codes(client, viewer)
    client.force_login(admin_user)
    page = client.get(reverse("accounts:user_edit", args=[viewer.pk])).content.decode()
    assert "10 unused recovery codes" in page
    client.post(reverse("accounts:user_two_factor_reset", args=[viewer.pk]))
    assert not StaticDevice.objects.filter(user=viewer).exists() and not StaticToken.objects.exists()


def test_codes_are_not_in_the_admin_exports_or_logs(client, viewer, admin_user, caplog):
    caplog.set_level("DEBUG")
    _, codes = turn_on_with_codes(client, viewer)
    password(client, viewer)
    code(client, codes[0][:-1] + ("2" if codes[0][-1] != "2" else "3"))  # a wrong one, one character off
    code(client, codes[0])
    client.force_login(admin_user)
    index = client.get("/admin/").content.decode()
    assert "otp_static" not in index and "Static devices" not in index and "recoverycodes" not in index
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404
    assert client.get("/admin/otp_static/statictoken/").status_code == 404
    exported = io.StringIO()
    call_command("export_config", stdout=exported)
    dumped = io.StringIO()
    call_command("dumpdata", "otp_static", stdout=dumped)  # even a raw database dump holds hashes only
    logged = caplog.text
    for c in codes:
        for text in (c, c.replace("-", "")):
            assert text not in exported.getvalue() and text not in dumped.getvalue() and text not in logged

"""Optional two-factor sign-in (TOTP): set up, sign in with a code, wrong codes throttled, turn off,
Admin reset (audited), REQUIRE_TWO_FACTOR, and the secret never rendered after set-up nor stored in clear."""
from __future__ import annotations

import re

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.db import connection
from django.urls import reverse

from accounts.models import TwoFactorDevice
from accounts.two_factor import THROTTLED, WRONG_CODE

from .two_factor_helpers import PAGE, code, code_from_secret, password, signed_in, turn_on, wrong_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_backoff(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the device's own back-off is tested on its own below
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def test_set_up_needs_a_right_code_and_then_never_shows_the_secret(client, viewer):
    client.force_login(viewer)
    assert "Set up two-factor" in client.get(PAGE).content.decode()
    page = client.post(PAGE, {"action": "start"}).content.decode()
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', page).group(1)
    assert "otpauth" not in page  # the URL is only inside the QR code's modules, never as text
    refused = client.post(PAGE, {"action": "confirm", "code": wrong_code(secret)})
    assert WRONG_CODE in refused.content.decode()
    assert not TwoFactorDevice.objects.get(user=viewer).confirmed
    client.post(PAGE, {"action": "confirm", "code": code_from_secret(secret)})
    device = TwoFactorDevice.objects.get(user=viewer)
    assert device.confirmed
    shown = client.get(PAGE).content.decode()
    assert "Turn off two-factor" in shown
    bare = secret.replace(" ", "")
    for text in (secret, bare, device.stored["key"], "<svg"):
        assert text not in shown
    assert LogEntry.objects.filter(additional_data__event="Two-factor turned on", object_pk=str(viewer.pk),
                                   actor=viewer).exists()


def test_the_key_is_encrypted_at_rest(client, viewer):
    secret = turn_on(client, viewer)
    key = TwoFactorDevice.objects.get(user=viewer).stored["key"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {TwoFactorDevice._meta.db_table}")
        raw = repr(cursor.fetchall())
    assert key not in raw and secret.replace(" ", "") not in raw


def test_sign_in_asks_for_the_code_after_the_password(client, viewer):
    secret = turn_on(client, viewer)
    response = password(client, viewer)
    assert response.status_code == 302 and response.url == reverse("login_code")
    assert not signed_in(client)
    assert client.get("/").status_code == 302  # not signed in yet: the dashboard sends to sign-in
    refused = code(client, wrong_code(secret))
    assert refused.status_code == 200 and WRONG_CODE in refused.content.decode()
    assert not signed_in(client)
    used = code_from_secret(secret)
    response = code(client, used)
    assert response.status_code == 302 and response.url == reverse("home")
    assert signed_in(client)
    # The same code again (a replay) is refused: sign out, password, the used code.
    client.post(reverse("logout"))
    password(client, viewer)
    assert WRONG_CODE in code(client, used).content.decode()
    assert code(client, code_from_secret(secret, 1)).status_code == 302


def test_users_without_two_factor_sign_in_with_the_password_alone(client, viewer, editor):
    turn_on(client, editor)
    response = password(client, viewer)
    assert response.status_code == 302 and response.url == reverse("home") and signed_in(client)


def test_the_code_page_needs_the_password_first(client, viewer):
    turn_on(client, viewer)
    assert client.get(reverse("login_code")).url == reverse("login")
    assert code(client, "123456").url == reverse("login")
    assert not signed_in(client)


def test_wrong_codes_count_as_failed_sign_ins(client, viewer):
    secret = turn_on(client, viewer)
    password(client, viewer)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert WRONG_CODE in code(client, wrong_code(secret)).content.decode()
    locked = code(client, wrong_code(secret))
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    # While locked even the right code is refused, and so is the password...
    assert code(client, code_from_secret(secret)).status_code == 429
    assert not signed_in(client)
    assert password(client, viewer).status_code == 429
    # ...from this address; from another one the account still signs in.
    client.cookies.clear()
    password(client, viewer, ip="198.51.100.9")
    last = code(client, code_from_secret(secret, 1), ip="198.51.100.9")
    assert last.status_code == 302, last.content.decode()


def test_the_device_backs_off_after_a_wrong_code(client, viewer, settings):
    secret = turn_on(client, viewer)
    settings.OTP_TOTP_THROTTLE_FACTOR = 600  # ten minutes after one wrong code
    password(client, viewer)
    assert WRONG_CODE in code(client, wrong_code(secret)).content.decode()
    assert THROTTLED in code(client, code_from_secret(secret)).content.decode()
    assert not signed_in(client)


def test_turning_off_needs_a_code(client, viewer):
    secret = turn_on(client, viewer)
    client.force_login(viewer)
    assert WRONG_CODE in client.post(PAGE, {"action": "disable", "code": wrong_code(secret)}).content.decode()
    assert TwoFactorDevice.objects.filter(user=viewer).exists()
    client.post(PAGE, {"action": "disable", "code": code_from_secret(secret)})
    assert not TwoFactorDevice.objects.filter(user=viewer).exists()
    assert LogEntry.objects.filter(additional_data__event="Two-factor turned off", actor=viewer).exists()
    client.logout()
    assert password(client, viewer).url == reverse("home")


def test_admins_reset_a_users_two_factor_and_it_is_audited(client, viewer, editor, admin_user):
    turn_on(client, viewer)
    url = reverse("accounts:user_two_factor_reset", args=[viewer.pk])
    for other in (viewer, editor):
        client.force_login(other)
        assert client.post(url).status_code == 403
    assert TwoFactorDevice.objects.filter(user=viewer).exists()
    client.force_login(admin_user)
    page = client.get(reverse("accounts:user_edit", args=[viewer.pk])).content.decode()
    assert "Reset two-factor" in page
    assert "On" in client.get(reverse("accounts:user_list")).content.decode()
    response = client.post(url)
    assert response.url == reverse("accounts:user_edit", args=[viewer.pk])
    assert not TwoFactorDevice.objects.filter(user=viewer).exists()
    entry = LogEntry.objects.get(additional_data__event="Two-factor reset")
    assert entry.actor == admin_user and entry.object_pk == str(viewer.pk)
    client.logout()
    assert password(client, viewer).url == reverse("home")


def test_require_two_factor_sends_users_to_set_it_up_first(client, viewer, settings):
    settings.REQUIRE_TWO_FACTOR = True
    client.force_login(viewer)
    response = client.get("/connections/routes/")
    assert response.status_code == 302 and response.url == PAGE
    assert "requires two-factor" in client.get(PAGE).content.decode()
    client.logout()
    secret = turn_on(client, viewer)
    password(client, viewer)
    code(client, code_from_secret(secret, 1))
    assert client.get("/connections/routes/").status_code == 200


def test_require_two_factor_is_off_by_default(client, viewer):
    assert settings.REQUIRE_TWO_FACTOR is False
    client.force_login(viewer)
    assert client.get("/").status_code == 200


def test_key_rotation_re_encrypts_the_two_factor_key(client, viewer, settings):
    import io

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from clients import crypto

    secret = turn_on(client, viewer)
    new = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new, *(settings.ENCRYPTION_KEYS or [crypto._derived_key().decode()])]
    call_command("rotate_encryption_key", stdout=io.StringIO())
    settings.ENCRYPTION_KEYS = [new]  # the old keys dropped: the device still reads its key
    password(client, viewer)
    assert code(client, code_from_secret(secret)).status_code == 302 and signed_in(client)

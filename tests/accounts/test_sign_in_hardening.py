"""Failed sign-ins are throttled per account and address; sessions end after the configured time."""
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client, username, password, ip="203.0.113.7"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_failed_sign_ins_lock_the_account_from_that_address(client, viewer):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = _sign_in(client, viewer.username, "wrong password")
        assert response.status_code == 200 and "Please enter a correct" in response.content.decode()
    locked = _sign_in(client, viewer.username, "wrong password")
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "Too many failed sign-ins" in body and f"({limit} in a row)" in body
    assert f"Try again in {settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in body

    # Even the right password is refused from that address while locked...
    assert _sign_in(client, viewer.username, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # ...but the account still signs in from elsewhere, and another account from this address.
    assert _sign_in(client, viewer.username, PASSWORD, ip="198.51.100.9").status_code == 302
    client.logout()


def test_the_lock_ends_after_the_configured_time(client, viewer):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, viewer.username, "wrong password")
    assert _sign_in(client, viewer.username, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time
                                 - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert _sign_in(client, viewer.username, PASSWORD).status_code == 302


def test_a_success_resets_the_count(client, viewer):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, viewer.username, "wrong password")
    assert _sign_in(client, viewer.username, PASSWORD).status_code == 302
    client.logout()
    assert _sign_in(client, viewer.username, "wrong password").status_code == 200  # counting from one again


def test_sessions_end_after_the_configured_time(client, viewer):
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60  # SESSION_TIMEOUT_MINUTES, default 480
    response = _sign_in(client, viewer.username, PASSWORD)
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE

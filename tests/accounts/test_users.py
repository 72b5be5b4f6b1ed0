"""Settings -> Users: add with a role, change role, deactivate, new password; Admins only."""
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from accounts.roles import role_of

from .conftest import make_user

pytestmark = pytest.mark.django_db
User = get_user_model()
GOOD = "plum-orchard-42-sunrise"


def _signs_in(client, username: str, password: str) -> bool:
    """Through the real sign-in form (django-axes needs the request)."""
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302 and "_auth_user_id" in client.session


def test_admin_adds_an_editor_who_can_sign_in(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("accounts:user_create"), {
        "username": "erin", "email": "erin@example.com", "role": "Editor", "password1": GOOD, "password2": GOOD})
    assert response.status_code == 302
    erin = User.objects.get(username="erin")
    assert role_of(erin) == "Editor" and not erin.is_staff and not erin.is_superuser
    client.logout()
    assert _signs_in(client, "erin", GOOD)
    assert "erin" in client.get(reverse("home")).content.decode()


def test_weak_passwords_are_refused_with_the_reason(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("accounts:user_create"), {
        "username": "weak", "role": "Viewer", "password1": "12345678", "password2": "12345678"})
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    assert not User.objects.filter(username="weak").exists()


def test_change_role_and_deactivate(client, admin_user):
    bob = make_user("bob", "Viewer")
    client.force_login(admin_user)
    client.post(reverse("accounts:user_edit", args=[bob.pk]), {"role": "Admin", "is_active": "on", "email": ""})
    bob.refresh_from_db()
    assert role_of(bob) == "Admin" and bob.is_superuser and bob.is_staff
    client.post(reverse("accounts:user_edit", args=[bob.pk]), {"role": "Viewer", "email": ""})
    bob.refresh_from_db()
    assert role_of(bob) == "Viewer" and not bob.is_superuser and not bob.is_active
    assert list(bob.groups.values_list("name", flat=True)) == ["Viewer"]
    client.logout()
    assert not _signs_in(client, "bob", "correct horse battery staple")


def test_an_admin_cannot_lock_themselves_out(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("accounts:user_edit", args=[admin_user.pk]), {"role": "Viewer", "email": ""})
    assert response.status_code == 200
    body = response.content.decode()
    assert "cannot take away your own Admin role" in body and "cannot deactivate yourself" in body
    admin_user.refresh_from_db()
    assert admin_user.is_superuser and admin_user.is_active


def test_admin_sets_a_new_password(client, admin_user):
    bob = make_user("bob", "Viewer")
    client.force_login(admin_user)
    client.post(reverse("accounts:user_password", args=[bob.pk]), {"new_password1": GOOD, "new_password2": GOOD})
    client.logout()
    assert _signs_in(client, "bob", GOOD)


def test_users_page_lists_roles(client, admin_user, viewer, editor):
    client.force_login(admin_user)
    body = client.get(reverse("accounts:user_list")).content.decode()
    assert "vera-viewer" in body and "eddie-editor" in body and "Viewer" in body and "Editor" in body


def test_navigation_follows_the_role(client, admin_user, viewer):
    client.force_login(viewer)
    body = client.get(reverse("home")).content.decode()
    assert reverse("accounts:user_list") not in body and reverse("admin:index") not in body
    assert reverse("connections:incoming_list") in body and "(Viewer)" in body
    client.force_login(admin_user)
    body = client.get(reverse("home")).content.decode()
    assert reverse("accounts:user_list") in body and reverse("admin:index") in body


def test_createsuperuser_makes_an_admin():
    call_command("createsuperuser", "--noinput", username="root", email="root@example.com")
    assert role_of(User.objects.get(username="root")) == "Admin"


def test_roles_hold_their_permissions():
    from accounts.roles import ensure_roles

    groups = ensure_roles()
    perms = {name: set(g.permissions.values_list("codename", flat=True)) for name, g in groups.items()}
    assert perms["Viewer"] == {"see_dashboard"}
    assert perms["Editor"] == {"see_dashboard", "edit_connections"}
    assert {"manage_secrets", "manage_users"} <= perms["Admin"]

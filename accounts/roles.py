"""Viewer, Editor and Admin: Django groups holding the accounts.* permissions.

Admin is also Django's superuser (everything, the Django admin included), so `createsuperuser`
and the first user `bin/start` creates are Admins without further steps.
"""
from django.contrib.auth.models import Group, Permission

VIEWER, EDITOR, ADMIN = "Viewer", "Editor", "Admin"
ROLES = (VIEWER, EDITOR, ADMIN)
ROLE_HELP = {
    VIEWER: "sees configurations, tasks, runs and logs; cannot run, retry, edit or export",
    EDITOR: "creates and edits connections and transformers, runs and retries; no users, secrets or variables",
    ADMIN: "everything, including users, HTTP Client secrets, environment variables and the Django admin",
}
PERMISSIONS = {
    VIEWER: ["see_dashboard"],
    EDITOR: ["see_dashboard", "edit_connections"],
    ADMIN: ["see_dashboard", "edit_connections", "manage_secrets", "manage_users"],
}


def ensure_roles() -> dict[str, Group]:
    """Create the three groups and give each exactly its permissions (idempotent)."""
    groups = {}
    for role, codenames in PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
        group.permissions.set(perms)
        groups[role] = group
    return groups


def ensure_roles_after_migrate(sender, **kwargs) -> None:
    ensure_roles()


def role_of(user) -> str:
    if user.is_superuser:
        return ADMIN
    names = set(user.groups.values_list("name", flat=True))
    for role in (EDITOR, VIEWER):
        if role in names:
            return role
    return ""  # no role: the user can sign in but open nothing


def set_role(user, role: str) -> None:
    """Give `user` exactly one role. Saves the user."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; pick one of {', '.join(ROLES)}.")
    groups = ensure_roles()
    user.is_superuser = user.is_staff = role == ADMIN
    user.save()
    user.groups.remove(*[g for name, g in groups.items() if name != role])
    user.groups.add(groups[role])

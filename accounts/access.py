"""Who may open which URL: ONE map from URL name to the permission it needs, checked for every request.

`accounts.middleware.RoleRequiredMiddleware` looks up the resolved view's name (``namespace:name``)
here before any view runs, for pages, forms and htmx endpoints alike. It fails closed: a URL name
that is not in RULES opens only for Admins (superusers), and `manage.py check` warns about it.

Adding a view? Add one line for its URL name to RULES:
    "myapp:thing_list": READ,              # GET and POST need the same permission
    "myapp:thing_edit": READ,      # (safe methods GET/HEAD/OPTIONS, every other method)
    "myapp:thing_secret": SECRETS,        # Admins only: secrets, hosts, variables, system jobs
A rule may also be a function (user, request, view_kwargs) -> bool for a per-object decision.
Views marked @login_not_required (sign-in page, health check, OAuth callback) are not looked up.
"""
from __future__ import annotations

from collections.abc import Callable

# The permissions the roles hold (accounts/models.py; roles in accounts/roles.py).
SEE = "accounts.see_dashboard"  # Viewer, Editor, Admin
EDIT = "accounts.edit_connections"  # Editor, Admin
SECRETS = "accounts.manage_secrets"  # Admin
USERS = "accounts.manage_users"  # Admin
SIGNED_IN = "signed in"  # any signed-in user, even one without a role (signing out)
# Rules are a permission for every method, or (permission for GET/HEAD/OPTIONS, for every other method).
READ = (SEE, EDIT)  # a page everyone sees; whatever it accepts by POST changes something: Editors

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _system_jobs_need_secrets(user, request, kwargs) -> bool:
    """Pausing a built-in job (pruning, stuck-task recovery) is an Admin's call; route schedules are Editors'."""
    from django_celery_beat.models import PeriodicTask

    from connections import schedules

    if not user.has_perm(EDIT):
        return False
    task = PeriodicTask.objects.filter(pk=kwargs.get("pk")).first()
    return task is None or not schedules.is_system(task) or user.has_perm(SECRETS)


RULES: dict[str, str | tuple[str, str] | Callable] = {
    "home": READ,
    "logout": SIGNED_IN,
    # HTTP Clients: everyone sees them (secrets only as "set"); only Admins create, duplicate or delete them
    # and change secrets or hosts; Editors edit the rest (the edit view locks those fields: clients/editor_edit.py).
    "clients:list": READ,
    "clients:detail": READ,
    "clients:create": SECRETS,
    "clients:create_settings": SECRETS,
    "clients:create_name": SECRETS,
    "clients:edit": EDIT,
    "clients:duplicate": SECRETS,
    "clients:delete": SECRETS,
    "clients:grant": SECRETS,
    "clients:test": EDIT,
    "clients:request_logs": READ,
    "clients:request_log": READ,
    # Incoming and Outgoing configurations.
    "connections:incoming_list": READ,
    "connections:incoming_edit": READ,
    "connections:incoming_create": EDIT,
    "connections:incoming_fields": READ,  # form fragments the edit page loads; they call no platform
    "connections:incoming_entity_options": READ,
    "connections:incoming_params_hint": READ,
    "connections:incoming_export": EDIT,
    "connections:incoming_import": EDIT,
    "connections:import_job": EDIT,
    "connections:incoming_duplicate": EDIT,
    "connections:incoming_delete": EDIT,
    "connections:incoming_run_test": EDIT,
    "connections:incoming_run_test_status": EDIT,
    "connections:incoming_run_test_cancel": EDIT,
    "connections:incoming_run_test_file": EDIT,
    "connections:outgoing_list": READ,
    "connections:outgoing_edit": READ,
    "connections:outgoing_create": EDIT,
    "connections:outgoing_fields": READ,
    "connections:outgoing_entity_options": READ,
    "connections:outgoing_params_hint": READ,
    "connections:outgoing_export": EDIT,
    "connections:outgoing_import": EDIT,
    "connections:outgoing_preview": EDIT,
    "connections:outgoing_preview_draft": EDIT,
    "connections:outgoing_duplicate": EDIT,
    "connections:outgoing_delete": EDIT,
    # Routes and transformers.
    "connections:route_list": READ,
    "connections:route_detail": READ,
    "connections:route_create": EDIT,
    "connections:route_edit": READ,
    "connections:route_run": EDIT,
    "connections:route_process": EDIT,
    "connections:route_delete": EDIT,
    "connections:transformer_list": READ,
    "connections:transformer_edit": READ,
    "connections:transformer_new": EDIT,
    "connections:transformer_run": EDIT,
    "connections:transformer_steps": EDIT,
    "connections:transformer_load_input": EDIT,
    "connections:transformer_delete": EDIT,
    "connections:transformer_example_delete": EDIT,
    # Storages, create or update, incremental fetch (issue 13).
    "storages:list": READ,
    "storages:detail": READ,
    "storages:entry": READ,
    "storages:new": EDIT,
    "storages:edit": READ,
    "storages:delete": EDIT,
    "storages:entry_delete": EDIT,
    "storages:export": EDIT,
    "storages:import": EDIT,
    "sync:outgoing": READ,
    "sync:incoming": READ,
    "sync:incoming_reset": EDIT,
    "sync:task_review": EDIT,
    # Monitoring: runs and tasks are seen by all; starting, cancelling, retrying and skipping are Editors'.
    "connections:run_list": READ,
    "connections:run_detail": READ,
    "connections:run_cancel": EDIT,
    "connections:run_start": EDIT,
    "connections:task_list": READ,
    "connections:task_detail": READ,
    "connections:task_file": READ,
    "connections:task_bulk": EDIT,
    # Schedulers: route and incoming schedules are Editors'; the built-in jobs are Admins'.
    "connections:scheduler_list": READ,
    "connections:scheduler_edit": READ,
    "connections:scheduler_toggle": _system_jobs_need_secrets,
    "connections:scheduler_delete": _system_jobs_need_secrets,
    # Webhooks are connections: Editors make them (their secrets are write-only, never shown); received
    # requests (redacted) are seen by all. The public endpoint itself is @login_not_required.
    "webhooks:list": READ,
    "webhooks:edit": READ,
    "webhooks:create": EDIT,
    "webhooks:delete": EDIT,
    "webhooks:export": EDIT,  # like the configurations' exports (no secret is in them)
    "webhooks:import": EDIT,
    "webhooks:register": EDIT,  # subscribes at the platform through an HTTP Client, never shows its secrets
    "webhooks:unregister": EDIT,
    "webhooks:request_list": READ,
    "webhooks:request_detail": READ,
    "webhooks:request_replay": EDIT,
    # Settings -> Audit log (each page shows its own object's history to whoever sees the page).
    "audit:audit_log": USERS,
    # Settings -> Environment variables: values may be secrets, so Admins only.
    "variables:list": SECRETS,
    "variables:create": SECRETS,
    "variables:edit": SECRETS,
    "variables:delete": SECRETS,
    # Settings -> Users.
    "accounts:user_list": USERS,
    "accounts:user_create": USERS,
    "accounts:user_edit": USERS,
    "accounts:user_password": USERS,
    "accounts:user_two_factor_reset": USERS,
    # Everyone's own account: turning two-factor sign-in on and off.
    "account:two_factor": SIGNED_IN,
}


def rule_for(view_name: str):
    return RULES.get(view_name)


def may_open(user, view_name: str, method: str = "GET", request=None, view_kwargs=None) -> bool:
    """True when `user` may send `method` to the URL named `view_name`. Unknown names: Admins only."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    rule = RULES.get(view_name)
    if rule is None:
        return False
    if callable(rule):
        return bool(rule(user, request, view_kwargs or {}))
    if isinstance(rule, tuple):
        rule = rule[0] if method.upper() in SAFE_METHODS else rule[1]
    return rule == SIGNED_IN or user.has_perm(rule)

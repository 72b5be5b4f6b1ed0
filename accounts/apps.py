from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import checks, roles  # noqa: F401  (checks registers the URL-rule check)

        # Permissions exist only after migrate's own post_migrate handler ran; ours runs after it
        # (this app comes later in INSTALLED_APPS), so the role groups can be given them.
        post_migrate.connect(roles.ensure_roles_after_migrate, sender=self)
        hide_recovery_codes_from_the_admin()


def hide_recovery_codes_from_the_admin() -> None:
    """django-otp's static plugin registers its devices (with their tokens inline) in the admin; recovery
    codes are secrets nobody else may see or add, so they are taken out again. The admin's autodiscover
    ran already: django.contrib.admin comes first in INSTALLED_APPS and apps get ready in that order."""
    from django.contrib import admin
    from django_otp.plugins.otp_static.models import StaticDevice

    if admin.site.is_registered(StaticDevice):
        admin.site.unregister(StaticDevice)

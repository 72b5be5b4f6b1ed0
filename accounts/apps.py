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

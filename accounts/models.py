"""The permissions the roles are made of. No table: Django only needs a model to hang them on."""
from django.db import models


class Access(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("see_dashboard", "See configurations, tasks, runs and request logs"),
            ("edit_connections", "Create and edit connections and transformers; run, retry, import and export"),
            ("manage_secrets", "Change HTTP Client secrets and hosts, environment variables and system schedules"),
            ("manage_users", "Invite users, change their roles, deactivate them"),
        ]

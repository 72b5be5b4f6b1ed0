"""Which models the audit trail follows (django-auditlog), and how their secrets appear: only as "changed".

auditlog writes an entry on every create, change and delete of a registered model, with the
signed-in user as actor (AuditlogMiddleware) and a diff of the fields. Secret fields are masked
by `secret_mask`, so the diff says a secret changed and never what it was or became.
Bookkeeping fields that change on their own (last used, timestamps, tokens refreshed by workers)
are left out so the log shows what people did.
"""
from django.apps import apps
from django.contrib.auth import get_user_model

SECRET = "(secret)"
MASK = "audit.registry.secret_mask"
NOISE = ["created_at", "updated_at"]


def secret_mask(value: str) -> str:
    return SECRET


# (app_label.Model, options); models of apps that are not installed are skipped.
FOLLOWED = [
    ("clients.HttpClient", {"exclude_fields": [*NOISE, "tokens", "token_expires_at", "auth_error", "last_used_at",
                                                "last_error", "auth_state"], "mask_fields": ["secrets"]}),
    ("connections.Incoming", {"exclude_fields": [*NOISE, "last_test"]}),
    ("connections.Outgoing", {"exclude_fields": NOISE}),
    ("connections.Route", {"exclude_fields": NOISE}),
    ("connections.Transformer", {"exclude_fields": NOISE}),
    ("connections.IncomingTransformer", {}),
    ("connections.OutgoingTransformer", {}),
    ("connections.RouteTransformer", {}),
    ("django_celery_beat.PeriodicTask", {"include_fields": ["name", "task", "enabled", "crontab", "interval",
                                                           "kwargs", "args", "description"]}),
    ("django_celery_beat.CrontabSchedule", {}),
    ("webhooks.Webhook", {"exclude_fields": NOISE, "mask_fields": ["secrets"]}),
    ("storages.Storage", {"exclude_fields": NOISE}),
    ("sync.CreateOrUpdate", {"exclude_fields": NOISE}),
    ("auth.Group", {"m2m_fields": {"permissions"}}),
    ("variables.Variable", {"exclude_fields": ["updated_at"], "mask_fields": ["stored"]}),
]


def register_models() -> None:
    from auditlog.registry import auditlog

    for label, options in FOLLOWED:
        app_label, model_name = label.split(".")
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            continue
        if "mask_fields" in options:
            options = {**options, "mask_callable": MASK}
        auditlog.register(model, **options)
    auditlog.register(get_user_model(), exclude_fields=["last_login", "date_joined"], mask_fields=["password"],
                      mask_callable=MASK, m2m_fields={"groups"})

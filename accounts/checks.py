"""`manage.py check` names every URL that has no rule in accounts/access.py (only Admins can open it)."""
from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver

from .access import RULES


def url_names(resolver=None, namespace=""):
    """(view name, callback) for every named URL pattern, with namespaces joined by ':'."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name, entry.callback


@checks.register(checks.Tags.security)
def every_url_has_a_rule(app_configs=None, **kwargs):
    missing = sorted({
        name for name, view in url_names()
        if name not in RULES and getattr(view, "login_required", True) and not name.startswith("admin:")
    })
    return [
        checks.Warning(
            f"URL “{name}” has no rule in accounts/access.py RULES, so only Admins can open it.",
            hint=f'Add a line such as "{name}": READ (or EDIT, SECRETS).',
            id="accounts.W001",
        )
        for name in missing
    ]

"""Sign-in hardening helpers for django-axes (settings in alumio_lite/settings.py)."""
from django.conf import settings


def client_ip(request) -> str:
    """The address failed sign-ins are counted against.

    REMOTE_ADDR, unless BEHIND_PROXY: then the last X-Forwarded-For entry, the one our own proxy
    appended (entries to its left come from the client and can be made up).
    """
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")

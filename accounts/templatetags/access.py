"""{% if request|may:"clients:edit" %}: show a link or button only to roles that may use it (accounts/access.py)."""
from django import template

from ..access import may_open

register = template.Library()


@register.filter
def may(request, view_name: str) -> bool:
    """May the signed-in user post to (use) the URL named `view_name`? Display only; the middleware enforces."""
    return may_open(request.user, view_name, "POST", request)


@register.filter
def may_see(request, view_name: str) -> bool:
    """May the signed-in user open (GET) the URL named `view_name`?"""
    return may_open(request.user, view_name, "GET", request)


@register.filter
def role(user) -> str:
    from ..roles import role_of

    return role_of(user) if user.is_authenticated else ""


@register.filter
def minutes(delta) -> int:
    """A timedelta in whole minutes, rounded up (a lock-out never ends sooner than said)."""
    if not delta:
        return 0
    return -(-int(delta.total_seconds()) // 60)

"""Every request to a view passes here: the role's permission for the URL (accounts/access.py) or a 403."""
from django.shortcuts import render

from .access import may_open
from .roles import role_of


class RoleRequiredMiddleware:
    """Place after LoginRequiredMiddleware: anonymous visitors were already sent to sign in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(view_func, "login_required", True):
            return None  # public on purpose (@login_not_required): sign-in page, health check, OAuth callback
        match = request.resolver_match
        if may_open(request.user, match.view_name, request.method, request, view_kwargs):
            return None
        role = role_of(request.user) if request.user.is_authenticated else ""
        return render(request, "accounts/refused.html", {"role": role}, status=403)

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


class TwoFactorRequiredMiddleware:
    """REQUIRE_TWO_FACTOR: a signed-in user without a confirmed two-factor device opens only their
    two-factor page (and can sign out) until they have set it up. Off by default."""

    ALLOWED = {"account:two_factor", "logout"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from django.conf import settings

        if not getattr(settings, "REQUIRE_TWO_FACTOR", False) or not request.user.is_authenticated:
            return None
        if not getattr(view_func, "login_required", True) or request.resolver_match.view_name in self.ALLOWED:
            return None
        from .two_factor import confirmed_device

        if confirmed_device(request.user) is not None:
            return None
        from django.contrib import messages
        from django.shortcuts import redirect

        messages.warning(request, "This installation requires two-factor sign-in: set it up before "
                                  "using the dashboard.")
        return redirect("account:two_factor")

"""Sign-in: the password, then (for users with two-factor on) a code from their authenticator app.

The password step is Django's LoginView (django-axes counts its failures). A user with a confirmed
two-factor device is NOT signed in after the password: the session only remembers who passed it, for
PENDING_SECONDS, and the code page signs them in. A wrong code counts as a failed sign-in for axes
(same account + address lock, same lockout page) and backs the device off (django-otp throttling).
"""
from __future__ import annotations

import time

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import get_user_model, login, user_login_failed
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from .two_factor import CodeForm, confirmed_device

PENDING_KEY = "two_factor_pending"
PENDING_SECONDS = 5 * 60


class SignInView(auth_views.LoginView):
    def form_valid(self, form):
        user = form.get_user()
        if confirmed_device(user) is None:
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {"user": user.pk, "backend": user.backend, "at": time.time(),
                                             "next": self.get_redirect_url()}
        return redirect("login_code")


def _pending_user(request: HttpRequest):
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending


@login_not_required
@never_cache
@csrf_protect
def sign_in_code(request: HttpRequest) -> HttpResponse:
    user, pending = _pending_user(request)
    device = confirmed_device(user) if user else None
    if device is None:  # nothing pending, expired, or two-factor was reset meanwhile: start again
        return redirect("login")
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        request.axes_locked_out, request.axes_credentials = True, credentials  # AxesMiddleware answers
        return HttpResponse(status=429)
    form = CodeForm(request.POST or None, device=device)
    if request.method == "POST":
        if form.is_valid():
            request.session.pop(PENDING_KEY, None)
            user.backend = pending["backend"]
            login(request, user)  # axes resets the account's failures on success
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
                target = "home"
            return redirect(target or "home")
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            return HttpResponse(status=429)
    return render(request, "registration/two_factor_code.html", {"form": form, "username": user.get_username()})





"""Sign-in: the password, then (for users with two-factor on) a code from their authenticator app.

The password step is Django's LoginView (django-axes counts its failures). A user with a confirmed
two-factor device is NOT signed in after the password: the session only remembers who passed it, for
PENDING_SECONDS, and the code page signs them in. A wrong code counts as a failed sign-in for axes
(same account + address lock, same lockout page) and backs the device off (django-otp throttling).
A recovery code (accounts.models.RecoveryCodes) is accepted in place of the app's code, once each; wrong
ones count exactly like wrong app codes. Signing in with one is an audit event, and the user is told how
many are left (warned when few are).
"""
from __future__ import annotations

import time

from axes.handlers.proxy import AxesProxyHandler
from django.contrib import messages
from django.contrib.auth import get_user_model, login, user_login_failed
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from audit import events as audit

from .models import RecoveryCodes
from .two_factor import FEW_CODES_LEFT, CodeForm, confirmed_device, looks_like_app_code

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
@sensitive_post_parameters("code")  # left out of error reports
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
    recovery = RecoveryCodes.objects.filter(user=user).first()
    form = CodeForm(request.POST or None, device=device, recovery=recovery)
    if request.method == "POST":
        if form.is_valid():
            request.session.pop(PENDING_KEY, None)
            user.backend = pending["backend"]
            login(request, user)  # axes resets the account's failures on success
            if form.used_recovery_code:
                _recovery_code_used(request, user)
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
                target = "home"
            return redirect(target or "home")
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            return HttpResponse(status=429)
    return render(request, "registration/two_factor_code.html", {
        "form": form, "username": user.get_username(),
        "recovery_tried": request.method == "POST" and not looks_like_app_code(request.POST.get("code"))})


def _recovery_code_used(request: HttpRequest, user) -> None:
    left = RecoveryCodes.remaining(user)
    audit.record("Signed in with a recovery code", user, actor=user,
                 detail=f"{left} unused recovery code{'' if left == 1 else 's'} left.")
    counted = f"{left} recovery code{'' if left == 1 else 's'} left" if left else "no recovery codes left"
    if left <= FEW_CODES_LEFT:
        messages.warning(request, f"You signed in with a recovery code: {counted}. Generate new ones on your "
                                  "two-factor page (your name at the bottom of the menu) before you run out.")
    else:
        messages.info(request, f"You signed in with a recovery code; it no longer works ({counted}). "
                               "Lost your phone? Turn two-factor off and set it up again on your two-factor page.")





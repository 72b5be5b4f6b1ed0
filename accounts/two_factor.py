"""Optional two-factor sign-in (TOTP, django-otp): each user turns it on or off on their own account page.

Turning on: "Set up" makes an unconfirmed device with a new secret; the page shows it once as a QR code
(SVG, no script) and as text; a correct code confirms it. From then on the secret is never rendered
again. Turning off needs a current code. An Admin can reset a user's two-factor in Settings -> Users
(accounts.views.user_two_factor_reset). All three are audit events. Sign-in: accounts/signin_views.py.
REQUIRE_TWO_FACTOR=1 sends users without a confirmed device here before anything else
(accounts.middleware.TwoFactorRequiredMiddleware).
"""
from __future__ import annotations

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.safestring import mark_safe

from audit import events as audit

from .models import TwoFactorDevice

WRONG_CODE = ("That code is not right. Enter the 6-digit code your authenticator app shows now "
              "(it changes every 30 seconds; is the clock of your phone set automatically?).")
THROTTLED = "Too many wrong codes in a row: wait a minute before trying again."


def confirmed_device(user) -> TwoFactorDevice | None:
    if not getattr(user, "pk", None):
        return None
    return TwoFactorDevice.objects.filter(user=user, confirmed=True).first()


class CodeForm(forms.Form):
    code = forms.CharField(label="Code from your authenticator app", max_length=12, widget=forms.TextInput(
        attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}))

    def __init__(self, *args, device: TwoFactorDevice | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_code(self):
        code = self.cleaned_data["code"]
        if self.device is None:
            raise forms.ValidationError(WRONG_CODE)
        if not self.device.verify_is_allowed()[0]:
            raise forms.ValidationError(THROTTLED)  # even a right code waits for the back-off to end
        if not self.device.verify_token(code):
            raise forms.ValidationError(WRONG_CODE)
        return code


def qr_svg(text: str) -> str:
    """The QR code as an inline <svg> element (no XML declaration, no script)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    return svg[svg.index("<svg"):]


def two_factor(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own two-factor page: status, set up (start/confirm), turn off."""
    user = request.user
    device = confirmed_device(user)
    pending = None if device else TwoFactorDevice.objects.filter(user=user, confirmed=False).first()
    action = request.POST.get("action") if request.method == "POST" else None
    form = CodeForm(device=pending if action == "confirm" else device)
    if action == "start" and device is None:
        pending = TwoFactorDevice.start(user)
    elif action == "cancel" and pending is not None:
        pending.delete()
        pending = None
    elif action == "confirm" and pending is not None:
        form = CodeForm(request.POST, device=pending)
        if form.is_valid():
            with transaction.atomic():
                TwoFactorDevice.objects.filter(pk=pending.pk).update(confirmed=True)
                audit.record("Two-factor turned on", user, actor=user)
            messages.success(request, "Two-factor sign-in is on: from now on signing in asks for a code "
                                      "from your authenticator app after the password.")
            return redirect("account:two_factor")
    elif action == "disable" and device is not None:
        form = CodeForm(request.POST, device=device)
        if form.is_valid():
            with transaction.atomic():
                TwoFactorDevice.objects.filter(user=user).delete()
                audit.record("Two-factor turned off", user, actor=user)
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("account:two_factor")
    context = {"device": device, "pending": pending, "form": form}
    if pending is not None:  # shown only while setting up, never once confirmed
        context["qr"] = mark_safe(qr_svg(pending.config_url()))
        context["secret"] = " ".join(pending.base32_key()[i:i + 4] for i in range(0, 32, 4))
    return render(request, "account/two_factor.html", context)


app_name = "account"
urlpatterns = [
    path("two-factor/", two_factor, name="two_factor"),
]

"""Optional two-factor sign-in (TOTP, django-otp): each user turns it on or off on their own account page.

Turning on: "Set up" makes an unconfirmed device with a new secret; the page shows it once as a QR code
(SVG, no script) and as text; a correct code confirms it. From then on the secret is never rendered
again. Confirming also makes 10 single-use recovery codes (accounts.models.RecoveryCodes, stored hashed),
shown in that one response only; "Generate new recovery codes" (a current code or the password) replaces
the set. Turning off needs a current code or a recovery code (a lost phone) and deletes the codes too.
An Admin can reset a user's two-factor in Settings -> Users (accounts.views.user_two_factor_reset).
All of these are audit events. Sign-in (where a recovery code replaces the app's code): accounts/signin_views.py.
REQUIRE_TWO_FACTOR=1 sends users without a confirmed device here before anything else
(accounts.middleware.TwoFactorRequiredMiddleware).
"""
from __future__ import annotations

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth import user_login_failed
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from audit import events as audit

from .models import RecoveryCodes, TwoFactorDevice

WRONG_CODE = ("That code is not right. Enter the 6-digit code your authenticator app shows now "
              "(it changes every 30 seconds; is the clock of your phone set automatically?).")
WRONG_RECOVERY_CODE = ("That recovery code is not right or was used already: each one works once. "
                       "Check for typing errors, or try another of your saved codes.")
WRONG_PASSWORD = "That password is not right."
CODE_OR_PASSWORD = "Enter a code from your authenticator app or your password."
THROTTLED = "Too many wrong codes in a row: wait a minute before trying again."
FEW_CODES_LEFT = 3  # at most this many unused recovery codes: the user is told to generate new ones


def looks_like_app_code(code: str) -> bool:
    """An authenticator app's code is 6 digits; anything else is taken for a recovery code."""
    return str(code or "").replace(" ", "").strip().isdigit()


def confirmed_device(user) -> TwoFactorDevice | None:
    if not getattr(user, "pk", None):
        return None
    return TwoFactorDevice.objects.filter(user=user, confirmed=True).first()


class CodeForm(forms.Form):
    """A code from the authenticator app or, when `recovery` is given, one of the user's recovery codes."""

    code = forms.CharField(label="Code from your authenticator app", max_length=40, widget=forms.TextInput(
        attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}))

    def __init__(self, *args, device: TwoFactorDevice | None = None, recovery: RecoveryCodes | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.device, self.recovery = device, recovery
        self.used_recovery_code = False
        if recovery is not None:  # letters too: no digits-only keyboard; nor focus (the page has several forms)
            self.fields["code"].label = "Code from your authenticator app, or a recovery code"
            self.fields["code"].widget.attrs.pop("inputmode", None)
            self.fields["code"].widget.attrs.pop("autofocus", None)

    def clean_code(self):
        code = self.cleaned_data["code"]
        use_recovery = self.recovery is not None and not looks_like_app_code(code)
        device = self.recovery if use_recovery else self.device
        wrong = WRONG_RECOVERY_CODE if use_recovery else WRONG_CODE
        if device is None:
            raise forms.ValidationError(wrong)
        if not device.verify_is_allowed()[0]:
            raise forms.ValidationError(THROTTLED)  # even a right code waits for the back-off to end
        if not device.verify_token(code):
            raise forms.ValidationError(wrong)
        self.used_recovery_code = use_recovery
        return code


class ConfirmForm(CodeForm):
    """Regenerating recovery codes: a current code (app or recovery) or, instead, the account's password."""

    password = forms.CharField(label="Or your password", required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.wrong_password = False
        self.fields["code"].required = False
        self.fields["code"].widget.attrs.pop("autofocus", None)

    def clean_code(self):
        return super().clean_code() if self.cleaned_data.get("code") else ""

    def clean(self):
        data = super().clean()
        if self.errors or data.get("code"):
            return data
        if not data.get("password"):
            raise forms.ValidationError(CODE_OR_PASSWORD)
        if not self.user.check_password(data["password"]):
            self.wrong_password = True
            self.add_error("password", WRONG_PASSWORD)
        return data


def qr_svg(text: str) -> str:
    """The QR code as an inline <svg> element (no XML declaration, no script)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    return svg[svg.index("<svg"):]


def new_recovery_codes(user, event: str) -> list[str]:
    codes = RecoveryCodes.replace_for(user)
    audit.record(event, user, actor=user, detail=f"{len(codes)} new recovery codes; earlier ones no longer work.")
    return codes


@sensitive_post_parameters("code", "password")  # left out of error reports
@never_cache  # the one response that shows recovery codes is kept by no cache (nor the back button)
def two_factor(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own two-factor page: status, set up (start/confirm), recovery codes, turn off."""
    user = request.user
    device = confirmed_device(user)
    recovery = RecoveryCodes.objects.filter(user=user).first() if device else None
    pending = None if device else TwoFactorDevice.objects.filter(user=user, confirmed=False).first()
    action = request.POST.get("action") if request.method == "POST" else None
    form = CodeForm(device=pending if action == "confirm" else device, recovery=recovery)
    regenerate_form = ConfirmForm(device=device, recovery=recovery, user=user, auto_id="regenerate_%s")
    new_codes = None
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
                new_codes = new_recovery_codes(user, "Recovery codes generated")
            messages.success(request, "Two-factor sign-in is on: from now on signing in asks for a code "
                                      "from your authenticator app after the password.")
            # Rendered, not redirected: the codes are in this response only and stored nowhere in clear.
            device, pending = confirmed_device(user), None
            recovery = RecoveryCodes.objects.filter(user=user).first()
            form = CodeForm(device=device, recovery=recovery)
            regenerate_form = ConfirmForm(device=device, recovery=recovery, user=user, auto_id="regenerate_%s")
    elif action == "regenerate" and device is not None:
        regenerate_form = ConfirmForm(request.POST, device=device, recovery=recovery, user=user,
                                      auto_id="regenerate_%s")
        if regenerate_form.is_valid():
            new_codes = new_recovery_codes(user, "Recovery codes generated")
            messages.success(request, "New recovery codes generated: the earlier ones no longer work.")
        elif regenerate_form.wrong_password:  # guessing the password here counts like guessing it at sign-in
            user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
            if getattr(request, "axes_locked_out", False):
                return HttpResponse(status=429)
    elif action == "disable" and device is not None:
        form = CodeForm(request.POST, device=device, recovery=recovery)
        if form.is_valid():
            with transaction.atomic():
                TwoFactorDevice.objects.filter(user=user).delete()
                RecoveryCodes.objects.filter(user=user).delete()
                audit.record("Two-factor turned off", user, actor=user,
                             detail="Two-factor sign-in and its recovery codes removed.")
            messages.success(request, "Two-factor sign-in is off; your recovery codes no longer work.")
            return redirect("account:two_factor")
    context = {"device": device, "pending": pending, "form": form, "regenerate_form": regenerate_form,
               "new_codes": new_codes, "few_codes_left": FEW_CODES_LEFT}
    if device is not None:
        context["remaining"] = RecoveryCodes.remaining(user)
    if pending is not None:  # shown only while setting up, never once confirmed
        context["qr"] = mark_safe(qr_svg(pending.config_url()))
        context["secret"] = " ".join(pending.base32_key()[i:i + 4] for i in range(0, 32, 4))
    return render(request, "account/two_factor.html", context)


app_name = "account"
urlpatterns = [
    path("two-factor/", two_factor, name="two_factor"),
]

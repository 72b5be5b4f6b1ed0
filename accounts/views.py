"""Settings -> Users: Admins add users, change their role, deactivate them and set new passwords."""
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from audit import events as audit

from .forms import UserAddForm, UserChangeForm
from .models import RecoveryCodes, TwoFactorDevice
from .roles import ROLE_HELP, ROLES, role_of, set_role

User = get_user_model()


def user_list(request: HttpRequest) -> HttpResponse:
    users = User.objects.order_by("-is_active", "username").prefetch_related("groups")
    with_two_factor = set(TwoFactorDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    rows = [{"user": u, "role": role_of(u), "two_factor": u.pk in with_two_factor} for u in users]
    return render(request, "accounts/user_list.html", {"rows": rows, "roles": [(r, ROLE_HELP[r]) for r in ROLES]})


def user_create(request: HttpRequest) -> HttpResponse:
    form = UserAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            set_role(user, form.cleaned_data["role"])
        messages.success(request, f"User “{user.username}” added as {form.cleaned_data['role']}. "
                                  "Give them their password in person or over a secure channel.")
        return redirect("accounts:user_list")
    return render(request, "accounts/user_form.html", {"form": form, "title": "Add user"})


def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = UserChangeForm(request.POST or None, instance=user, acting_user=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            set_role(user, form.cleaned_data["role"])
        state = "" if user.is_active else " (deactivated: cannot sign in)"
        messages.success(request, f"User “{user.username}” saved as {form.cleaned_data['role']}{state}.")
        return redirect("accounts:user_list")
    return render(request, "accounts/user_form.html", {
        "form": form, "title": f"User “{user.username}”", "edited": user,
        "two_factor": TwoFactorDevice.objects.filter(user=user, confirmed=True).first(),
        "recovery_left": RecoveryCodes.remaining(user)})  # how many, never which


def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()  # also signs the user out of their other sessions (the session hash changes)
        messages.success(request, f"New password set for “{user.username}”.")
        return redirect("accounts:user_list")
    return render(request, "accounts/user_form.html", {"form": form, "title": f"New password for “{user.username}”",
                                                       "edited": user, "password_form": True})


def user_two_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a user's two-factor off (lost phone, no recovery codes left): they sign in with the password alone
    and may set it up again. Their recovery codes go too."""
    user = get_object_or_404(User, pk=pk)
    if request.method == "POST":
        with transaction.atomic():
            removed, _ = TwoFactorDevice.objects.filter(user=user).delete()
            RecoveryCodes.objects.filter(user=user).delete()
            if removed:
                audit.record("Two-factor reset", user, actor=request.user,
                             detail=f"Two-factor sign-in and recovery codes of {user.username} reset by an Admin.")
        messages.success(request, f"Two-factor sign-in of “{user.username}” reset: they sign in with their "
                                  "password and can set it up again on their account page."
                         if removed else f"“{user.username}” has no two-factor sign-in.")
    return redirect("accounts:user_edit", pk=user.pk)


app_name = "accounts"
urlpatterns = [
    path("", user_list, name="user_list"),
    path("new/", user_create, name="user_create"),
    path("<int:pk>/", user_edit, name="user_edit"),
    path("<int:pk>/password/", user_password, name="user_password"),
    path("<int:pk>/two-factor/reset/", user_two_factor_reset, name="user_two_factor_reset"),
]

"""Settings -> Users: Admins add users, change their role, deactivate them and set new passwords."""
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from .forms import UserAddForm, UserChangeForm
from .roles import ROLE_HELP, ROLES, role_of, set_role

User = get_user_model()


def user_list(request: HttpRequest) -> HttpResponse:
    users = User.objects.order_by("-is_active", "username").prefetch_related("groups")
    rows = [{"user": u, "role": role_of(u)} for u in users]
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
    return render(request, "accounts/user_form.html", {"form": form, "title": f"User “{user.username}”",
                                                       "edited": user})


def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()  # also signs the user out of their other sessions (the session hash changes)
        messages.success(request, f"New password set for “{user.username}”.")
        return redirect("accounts:user_list")
    return render(request, "accounts/user_form.html", {"form": form, "title": f"New password for “{user.username}”",
                                                       "edited": user, "password_form": True})


app_name = "accounts"
urlpatterns = [
    path("", user_list, name="user_list"),
    path("new/", user_create, name="user_create"),
    path("<int:pk>/", user_edit, name="user_edit"),
    path("<int:pk>/password/", user_password, name="user_password"),
]

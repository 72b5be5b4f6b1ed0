"""Clients -> HTTP Clients -> New: the three-step create wizard (platform, its settings, the name).

The wizard keeps what was typed in the session so "Back" loses nothing; secrets typed in it
are encrypted with clients.crypto before they go into the session (the session table itself
is not encrypted).
"""
from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .. import auth_status
from ..forms import ClientNameForm, ClientSettingsForm, PlatformChoiceForm
from ..models import HttpClient
from .http_clients import decrypt_secrets, encrypt_secrets, platform_or_none

WIZARD_KEY = "http_client_wizard"
WIZARD_STEPS = ("Platform", "Settings", "Name")


def _wizard(request: HttpRequest) -> dict:
    return request.session.get(WIZARD_KEY) or {}


def _save_wizard(request: HttpRequest, state: dict) -> None:
    request.session[WIZARD_KEY] = state
    request.session.modified = True


def _wizard_context(step: int, **extra) -> dict:
    return {"steps": WIZARD_STEPS, "step": step, **extra}


def create_platform(request: HttpRequest) -> HttpResponse:
    """Step 1: choose the platform, then "Next step"."""
    state = _wizard(request)
    if request.GET.get("restart"):
        state = {}
        _save_wizard(request, state)
    if request.method == "POST":
        form = PlatformChoiceForm(request.POST)
        if form.is_valid():
            chosen = form.cleaned_data["platform"]
            if chosen != state.get("platform"):
                # Another platform has other fields: what was typed for the old one is dropped.
                state = {"platform": chosen, "name": state.get("name", ""), "identifier": state.get("identifier", "")}
            _save_wizard(request, state)
            return redirect("clients:create_settings")
    else:
        form = PlatformChoiceForm(initial={"platform": state.get("platform")})
    return render(request, "clients/http_client_wizard.html", _wizard_context(1, form=form))


def create_settings(request: HttpRequest) -> HttpResponse:
    """Step 2: the platform's fields, defaults pre-filled, and "Enable request logging"."""
    state = _wizard(request)
    platform = platform_or_none(state.get("platform", ""))
    if platform is None:
        return redirect("clients:create")
    stashed = decrypt_secrets(state.get("secrets", ""))
    if request.method == "POST":
        form = ClientSettingsForm(request.POST, platform=platform, stored_secrets=stashed,
                                  stash_secrets=frozenset(stashed))
        going_back = "back" in request.POST
        if not going_back and form.is_valid():
            state.update(settings=form.settings_values(), secrets=encrypt_secrets(form.secret_values()),
                         log_requests=form.cleaned_data["log_requests"],
                         rate_limit_per_minute=form.cleaned_data["rate_limit_per_minute"], settings_done=True)
            _save_wizard(request, state)
            return redirect("clients:create_name")
        # Keep everything typed: non-secret values as typed, secrets that passed their own
        # checks encrypted (they re-render empty with "kept from your last input").
        if going_back:
            form.is_valid()
        kept = {**stashed, **form.valid_typed_secrets()}
        state.update(
            settings={f.name: (request.POST.get(f.name) or "").strip() for f in platform.fields if not f.secret},
            secrets=encrypt_secrets(kept),
            log_requests=bool(request.POST.get("log_requests")),
            rate_limit_per_minute=(request.POST.get("rate_limit_per_minute") or "").strip(),
            settings_done=False,
        )
        _save_wizard(request, state)
        if going_back:
            return redirect("clients:create")
        form.stored_secrets, form.stash_secrets = kept, frozenset(kept)
    else:
        initial = {f.name: f.default for f in platform.fields if f.default}
        initial.update(state.get("settings") or {})
        initial["log_requests"] = state.get("log_requests", False)
        initial["rate_limit_per_minute"] = state.get("rate_limit_per_minute")
        form = ClientSettingsForm(initial=initial, platform=platform, stored_secrets=stashed,
                                  stash_secrets=frozenset(stashed))
    return render(request, "clients/http_client_wizard.html",
                  _wizard_context(2, form=form, platform=platform))


def create_name(request: HttpRequest) -> HttpResponse:
    """Step 3: the name (and its identifier), then "Save"."""
    state = _wizard(request)
    platform = platform_or_none(state.get("platform", ""))
    if platform is None:
        return redirect("clients:create")
    if not state.get("settings_done"):
        return redirect("clients:create_settings")
    if request.method == "POST":
        form = ClientNameForm(request.POST)
        if "back" in request.POST:
            state.update(name=request.POST.get("name", ""), identifier=request.POST.get("identifier", ""))
            _save_wizard(request, state)
            return redirect("clients:create_settings")
        if form.is_valid():
            settings_values = state.get("settings") or {}
            client = HttpClient(
                name=form.cleaned_data["name"],
                identifier=form.cleaned_data["identifier"],
                platform=platform.slug,
                settings=settings_values,
                secrets=decrypt_secrets(state.get("secrets", "")),
                log_requests=bool(state.get("log_requests")),
                rate_limit_per_minute=_per_minute(state.get("rate_limit_per_minute")),
                auth_state=auth_status.initial_state(platform, settings_values),
            )
            try:
                with transaction.atomic():
                    client.save()
            except IntegrityError:  # someone took the identifier a moment ago
                form.add_error("identifier", f"The identifier “{client.identifier}” is already used; pick another one.")
            else:
                request.session.pop(WIZARD_KEY, None)
                messages.success(request, f"HTTP Client “{client.name}” saved.")
                return redirect(client)
    else:
        form = ClientNameForm(initial={"name": state.get("name", ""), "identifier": state.get("identifier", "")})
    return render(request, "clients/http_client_wizard.html", _wizard_context(3, form=form, platform=platform))


def _per_minute(value) -> int | None:
    """The wizard's stored "Requests per minute" (validated by the form before it was kept)."""
    return value if isinstance(value, int) else None

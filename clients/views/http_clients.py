"""Clients -> HTTP Clients: the list, a client's page, edit, duplicate, delete and "Test connection".

The create wizard is in http_client_wizard.py, "Grant access" and the OAuth callback in
grant_access.py; the URLs of all three are in clients/urls.py. Secrets typed in a form that did
not save yet are kept in the session encrypted with clients.crypto (`encrypt_secrets`), as the
session table itself is not encrypted.
"""
from __future__ import annotations

import json

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import SECRETS
from alumio_lite.filters import text_param

from .. import auth_status, crypto, oauth, rate_budget
from ..editor_edit import EditorClientSettingsForm
from ..forms import ClientNameForm, ClientSettingsForm, is_active
from ..identifiers import unique_identifier
from ..models import HttpClient
from ..platforms.base import Platform
from ..platforms.registry import PLATFORMS, UnknownPlatform, get_platform
from ..redaction import redact_text


# -- small helpers ------------------------------------------------------------------------
def platform_or_none(slug: str) -> Platform | None:
    try:
        return get_platform(slug)
    except UnknownPlatform:
        return None


def encrypt_secrets(values: dict[str, str]) -> str:
    return crypto.encrypt(json.dumps(values)) if values else ""


def decrypt_secrets(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(crypto.decrypt(token))
    except ValueError:  # the key was rotated while the wizard was open: ask again
        return {}


auth_summary = auth_status.summary  # (badge class, text) for the list and the client page


# -- list ---------------------------------------------------------------------------------
def http_client_list(request: HttpRequest) -> HttpResponse:
    """Name, platform, authentication state, rate budget and its use, request logging, last used, last error."""
    q = text_param(request.GET.get("q"))
    platform = request.GET.get("platform", "")
    clients = HttpClient.objects.all()
    if q:
        clients = clients.filter(Q(name__icontains=q) | Q(identifier__icontains=q))
    if platform in PLATFORMS:
        clients = clients.filter(platform=platform)
    clients = list(clients)
    budgets = rate_budget.describe(clients)  # one read of the shared budgets
    rows = []
    for client in clients:
        css, text = auth_summary(client)
        p = platform_or_none(client.platform)
        rows.append({"client": client, "platform": p.label if p else client.platform,
                     "auth_css": css, "auth_text": text, "budget": budgets.get(client.pk),
                     "last_error": redact_text(client.last_error or client.auth_error, client.secret_values())})
    context = {
        "rows": rows,
        "q": q,
        "platform": platform,
        "platforms": [(p.slug, p.label) for p in PLATFORMS.values()],
        "filtered": bool(q or platform),
    }
    template = "clients/_http_client_table.html" if request.htmx else "clients/http_client_list.html"
    return render(request, template, context)


# -- one client ---------------------------------------------------------------------------
def get_client(identifier: str) -> HttpClient:
    return get_object_or_404(HttpClient, identifier=identifier)


def _detail_context(client: HttpClient) -> dict:
    platform = platform_or_none(client.platform)
    css, text = auth_summary(client)
    uses_oauth = bool(platform and platform.uses_oauth(client.settings or {}))
    settings_rows, secret_rows = [], []
    if platform:
        for f in platform.fields:
            if not is_active(f, client.settings or {}):
                continue
            if f.secret:
                secret_rows.append((f.label, "set" if client.secrets.get(f.name) else "not set"))
            else:
                value = (client.settings or {}).get(f.name, "")
                if f.kind == "choice":
                    value = dict(f.choices).get(value, value)
                settings_rows.append((f.label, value))
    return {
        "client": client,
        "platform": platform,
        "auth_css": css,
        "auth_text": text,
        "uses_oauth": uses_oauth,
        "redirect_uri": oauth.redirect_uri() if uses_oauth else "",
        "settings_rows": settings_rows,
        "secret_rows": secret_rows,
        "tokens_set": bool((client.tokens or {}).get("access_token")),
        "auth_error": redact_text(client.auth_error, client.secret_values()),
        "refresh_error": redact_text(client.refresh_error, client.secret_values()) if uses_oauth else "",
        "last_error": redact_text(client.last_error, client.secret_values()),
        "recent_logs": client.request_logs.all()[:10],
        "used_by": _configurations_using(client),
        "budget": rate_budget.describe([client])[client.pk],
    }


def http_client_detail(request: HttpRequest, identifier: str) -> HttpResponse:
    client = get_client(identifier)
    return render(request, "clients/http_client_detail.html", _detail_context(client))


def _edit_stash_key(client: HttpClient) -> str:
    return f"http_client_edit:{client.pk}"


@require_http_methods(["GET", "POST"])
def http_client_edit(request: HttpRequest, identifier: str) -> HttpResponse:
    """Name, identifier and the platform's fields on one page; blank secrets keep their value.

    Editors get the same page with secrets and addresses locked (clients/editor_edit.py)."""
    client = get_client(identifier)
    editor_only = not request.user.has_perm(SECRETS)
    settings_form = EditorClientSettingsForm if editor_only else ClientSettingsForm
    platform = platform_or_none(client.platform)
    if platform is None:
        messages.error(request, f"Unknown platform “{client.platform}”; this client cannot be edited here.")
        return redirect(client)
    stash_key = _edit_stash_key(client)
    stashed = decrypt_secrets(request.session.get(stash_key, ""))
    stored = {**client.secrets, **stashed}
    if request.method == "POST":
        name_form = ClientNameForm(request.POST, exclude_pk=client.pk)
        form = settings_form(request.POST, platform=platform, stored_secrets=stored,
                             stash_secrets=frozenset(stashed), saved_settings=dict(client.settings or {}))
        if name_form.is_valid() & form.is_valid():  # both, so every error shows at once
            old_settings, old_secrets = dict(client.settings or {}), dict(client.secrets or {})
            client.name = name_form.cleaned_data["name"]
            client.identifier = name_form.cleaned_data["identifier"]
            client.settings = {**old_settings, **form.settings_values()}
            client.secrets = form.secret_values()
            client.log_requests = form.cleaned_data["log_requests"]
            client.rate_limit_per_minute = form.cleaned_data["rate_limit_per_minute"]
            try:
                with transaction.atomic():
                    client.save()  # never the tokens: see HttpClient.AUTH_FIELDS
            except IntegrityError:
                name_form.add_error("identifier", "That identifier was taken a moment ago; pick another one.")
            else:
                auth_status.after_edit(client, platform, old_settings, old_secrets, hosts_changed=form.hosts_changed)
                request.session.pop(stash_key, None)
                messages.success(request, f"HTTP Client “{client.name}” saved.")
                return redirect(client)
        typed = {} if editor_only else form.valid_typed_secrets()
        if typed:
            stashed = {**stashed, **typed}
            request.session[stash_key] = encrypt_secrets(stashed)
            form.stored_secrets = {**client.secrets, **stashed}
            form.stash_secrets = frozenset(stashed)
    else:
        request.session.pop(stash_key, None)
        initial = {f.name: f.default for f in platform.fields if f.default}
        initial.update(client.settings or {})
        initial["log_requests"] = client.log_requests
        initial["rate_limit_per_minute"] = client.rate_limit_per_minute
        form = settings_form(initial=initial, platform=platform, stored_secrets=client.secrets,
                             saved_settings=dict(client.settings or {}))
        name_form = ClientNameForm(initial={"name": client.name, "identifier": client.identifier})
    return render(request, "clients/http_client_edit.html", {
        "client": client, "platform": platform, "form": form, "name_form": name_form, "editor_only": editor_only,
    })


@require_POST
def http_client_duplicate(request: HttpRequest, identifier: str) -> HttpResponse:
    """A copy with the same settings; secrets and OAuth tokens are not copied (type them again, grant again)."""
    original = get_client(identifier)
    platform = platform_or_none(original.platform)
    name = f"{original.name} (copy)"
    copy = HttpClient(
        name=name,
        identifier=unique_identifier(name, HttpClient),
        platform=original.platform,
        settings=dict(original.settings or {}),
        log_requests=original.log_requests,
        rate_limit_per_minute=original.rate_limit_per_minute,
        auth_state=auth_status.initial_state(platform, original.settings or {}) if platform else original.auth_state,
    )
    copy.save()
    messages.success(request, f"Duplicated as “{copy.name}”. Rename it here and type its secrets again: "
                              "they are not copied.")
    return redirect("clients:edit", identifier=copy.identifier)


@require_http_methods(["GET", "POST"])
def http_client_delete(request: HttpRequest, identifier: str) -> HttpResponse:
    client = get_client(identifier)
    users = _configurations_using(client)
    if request.method == "POST":
        try:
            with transaction.atomic():
                client.delete()
        except ProtectedError:
            users = _configurations_using(client)
            names = ", ".join(u["name"] for u in users) or "configurations"
            messages.error(request, f"“{client.name}” is used by {names}; change or delete those first.")
            return redirect(client)
        messages.success(request, f"HTTP Client “{client.name}” deleted.")
        return redirect("clients:list")
    return render(request, "clients/http_client_confirm_delete.html", {"client": client, "users": users})


def _configurations_using(client: HttpClient) -> list[dict]:
    """Incoming and Outgoing configurations whose `client` is this one (they PROTECT it)."""
    from connections.models import Incoming, Outgoing

    found = []
    for model, kind in ((Incoming, "Incoming"), (Outgoing, "Outgoing")):
        for obj in model.objects.filter(client=client).only("pk", "name"):
            found.append({"kind": kind, "name": obj.name, "url": _safe_url(obj)})
    return found


def _safe_url(obj) -> str:
    try:
        return obj.get_absolute_url()
    except Exception:  # the other app's URLs may not exist yet; a name is enough then
        return ""


@require_POST
def http_client_test(request: HttpRequest, identifier: str) -> HttpResponse:
    """"Test connection" (clients.connection_check); the result replaces the button's target."""
    from ..connection_check import check_connection

    client = get_client(identifier)
    result = check_connection(client)
    context: dict = {"client": client, "ok": result.ok, "status": result.status, "message": result.message}
    template = "clients/_test_result.html" if request.htmx else "clients/http_client_detail.html"
    if not request.htmx:
        client.refresh_from_db()
        context = {**_detail_context(client), "test": context}
    return render(request, template, context)

"""Clients -> HTTP Clients: "Grant access" and the OAuth callback (the Redirect URI) that ends it."""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from audit import events as audit

from .. import oauth
from ..platforms.registry import get_platform
from .http_clients import get_client


@require_POST
def http_client_grant(request: HttpRequest, identifier: str) -> HttpResponse:
    """"Grant access to Timely": off to the provider's authorize page."""
    client = get_client(identifier)
    try:
        url = oauth.start_grant(request, client)
    except oauth.OAuthError as exc:
        messages.error(request, str(exc))
        return redirect(client)
    return HttpResponseRedirect(url)


CALLBACK_PARAMS = ("code", "state", "error", "error_description")


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """The Redirect URI. GET for most providers; Copper POSTs `code` and `state` in the body.

    CSRF-exempt because the provider's page submits it. A cross-site POST carries no
    SameSite=Lax session cookie, so nothing can be checked on it, and acting on the state alone
    let another browser spend it: the POST only hands the answer on to a GET of this same view
    (a top-level navigation, which does carry the cookie). Every answer is then checked the same
    way: the single-use state must belong to this browser session and this user.
    """
    if request.method == "POST" and request.POST.get("state"):
        answer = {k: request.POST[k] for k in CALLBACK_PARAMS if k in request.POST}
        response = render(request, "clients/oauth_continue.html",
                          {"next": reverse("clients:oauth_callback") + "?" + urlencode(answer)})
        response["Cache-Control"] = "no-store"
        return response
    params = request.GET if request.method == "GET" else request.POST  # a POST without state: refused below
    try:
        client = oauth.complete_grant(
            state=params.get("state", ""),
            code=params.get("code", ""),
            error=params.get("error", ""),
            error_description=params.get("error_description", ""),
            session_key=request.session.session_key or "",  # no session: it can't be the one that started
            user=request.user,
        )
    except oauth.GrantError as exc:
        messages.error(request, str(exc))
        target = reverse("clients:detail", args=[exc.client.identifier]) if exc.client else reverse("clients:list")
        return HttpResponseRedirect(target)
    platform = get_platform(client.platform)
    audit.record("Grant access", client, actor=request.user)
    messages.success(request, f"Access granted to {platform.label}.")
    return HttpResponseRedirect(reverse("clients:detail", args=[client.identifier]))

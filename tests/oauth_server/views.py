"""Views of the test-only provider: Copper-style POST callback, protected resources, counters."""
import base64
import io
import json
import os
import threading
from collections import Counter
from urllib.parse import parse_qsl, unquote_plus, urlsplit, urlunsplit

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.decorators import protected_resource
from oauth2_provider.models import get_application_model
from oauth2_provider.views import AuthorizationView

_lock = threading.Lock()
TOKEN_REQUESTS: Counter = Counter()  # grant_type -> count, recorded by TokenEndpointRules


class TokenEndpointRules:
    """WSGI middleware in front of the token endpoint (one process, threads).

    Counts POSTs by grant_type, and enforces each application's client authentication method
    (RFC 6749 §2.3.1) the way a strict provider does: a client_secret_basic app must send an
    Authorization: Basic header and no secret in the body (Pipedrive); a client_secret_post app
    must send both credentials in the body and no Authorization header. Anything else is
    answered 401 invalid_client before django-oauth-toolkit (which accepts either) sees it.
    """

    def __init__(self, app):
        self.app = app
        self.apps = json.loads(os.environ.get("OAUTH_SERVER_APPS", "{}"))

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/o/token/" and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            form = dict(parse_qsl(body.decode()))
            with _lock:
                TOKEN_REQUESTS[form.get("grant_type", "?")] += 1
            environ["wsgi.input"] = io.BytesIO(body)
            refusal = self._refusal(environ.get("HTTP_AUTHORIZATION", ""), form)
            if refusal:
                with _lock:
                    TOKEN_REQUESTS["refused_client_auth"] += 1
                answer = json.dumps({"error": "invalid_client", "error_description": refusal}).encode()
                start_response("401 Unauthorized", [("Content-Type", "application/json"),
                                                     ("Content-Length", str(len(answer)))])
                return [answer]
        return self.app(environ, start_response)

    def _refusal(self, authorization: str, form: dict) -> str:
        client_id = form.get("client_id", "")
        if authorization.startswith("Basic "):
            try:
                client_id = unquote_plus(base64.b64decode(authorization[6:]).decode().split(":", 1)[0])
            except ValueError:
                return "malformed Basic credentials"
        rule = self.apps.get(client_id)
        if rule is None:
            return ""  # unknown clients: django-oauth-toolkit answers
        if rule["auth"] == "client_secret_basic":
            if not authorization.startswith("Basic "):
                return "this client authenticates with HTTP Basic (client_secret_basic)"
            if "client_secret" in form:
                return "client_secret must not be sent in the body (client_secret_basic)"
        elif authorization:
            return "this client sends its credentials in the body (client_secret_post)"
        return ""


class PostCallbackAuthorizationView(AuthorizationView):
    """Mimics Copper: after consent the browser POSTs `code` and `state` to the redirect URI.

    django-oauth-toolkit would redirect with them in the query string; here the same answer
    is turned into an auto-submitting form, which is what Copper's consent page does.
    """

    def redirect(self, redirect_to, application):
        parts = urlsplit(redirect_to)
        fields = parse_qsl(parts.query, keep_blank_values=True)
        action = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        return render(self.request, "post_callback.html", {"action": action, "fields": fields})


@protected_resource()
def timely_accounts(request):
    return JsonResponse([{"id": 1, "name": "Acme Timely", "user": request.resource_owner.username}], safe=False)


@protected_resource()
def pipedrive_me(request):
    return JsonResponse({"success": True, "data": {"id": 3, "name": request.resource_owner.username}})


@protected_resource()
def copper_account(request):
    return JsonResponse({"id": 7, "name": "Acme Copper", "user": request.resource_owner.username})


def stats(request):
    with _lock:
        return JsonResponse(dict(TOKEN_REQUESTS))


@csrf_exempt
def set_redirect_uris(request):
    """POST {"redirect_uris": [...]}: the dashboard's address is known only later (every app)."""
    data = json.loads(request.body)
    get_application_model().objects.update(redirect_uris=" ".join(data["redirect_uris"]))
    return HttpResponse("ok")

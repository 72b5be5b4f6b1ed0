"""Views of the test-only provider: Copper-style POST callback, protected resources, counters."""
import io
import json
import threading
from collections import Counter
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.decorators import protected_resource
from oauth2_provider.models import get_application_model
from oauth2_provider.views import AuthorizationView

_lock = threading.Lock()
TOKEN_REQUESTS: Counter = Counter()  # grant_type -> count, recorded by CountTokenRequests


class CountTokenRequests:
    """WSGI middleware: counts POSTs to the token endpoint by grant_type (one process, threads)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/o/token/" and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            grant = dict(parse_qsl(body.decode())).get("grant_type", "?")
            with _lock:
                TOKEN_REQUESTS[grant] += 1
            environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


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
def copper_account(request):
    return JsonResponse({"id": 7, "name": "Acme Copper", "user": request.resource_owner.username})


def stats(request):
    with _lock:
        return JsonResponse(dict(TOKEN_REQUESTS))


@csrf_exempt
def set_redirect_uris(request):
    """POST {"client_id": ..., "redirect_uris": [...]}: the dashboard's address is known only later."""
    data = json.loads(request.body)
    app = get_application_model().objects.get(client_id=data["client_id"])
    app.redirect_uris = " ".join(data["redirect_uris"])
    app.save(update_fields=["redirect_uris"])
    return HttpResponse("ok")

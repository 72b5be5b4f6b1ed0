"""POST /webhooks/<identifier> goes straight to the endpoint, past the dashboard's middleware.

The endpoint is public on purpose (@login_not_required), CSRF-exempt and answers JSON: sessions,
authentication, sign-in, roles, two-factor, messages, CSRF, HTMX, CSP, audit actor and axes have
nothing to do for it, yet cost more CPU per request than the endpoint's own work. Placed right
after SecurityMiddleware (its headers and HTTPS redirect still apply); everything else, the same
path with another method included, takes the ordinary way through the URLconf.
"""
from __future__ import annotations

import re

from . import intake

PATH = re.compile(r"/webhooks/([-a-zA-Z0-9_]+)")  # the URLconf's <slug:identifier>


class WebhookIntakeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = PATH.fullmatch(request.path_info)
        if match is None or request.method != "POST":
            return self.get_response(request)
        return intake.receive(request, match.group(1))

"""The project's URLs plus the benchmark's baseline: a view that answers 202 and stores nothing.

It passes through the same middleware as the real endpoint, so the difference measured is the
endpoint's own work (look-up, validation, storing, the answer after commit).
"""
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from alumio_lite.urls import urlpatterns as project_urls


@csrf_exempt
@login_not_required
def accepted_without_storing(request, identifier):
    request.body  # read the body, as the endpoint does  # noqa: B018
    return JsonResponse({"status": "accepted"}, status=202)


urlpatterns = [path("baseline/<slug:identifier>", accepted_without_storing), *project_urls]

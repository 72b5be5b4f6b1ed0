"""The project's URLs plus one view nobody wrote a rule for."""
from django.http import HttpResponse
from django.urls import path

from alumio_lite.urls import urlpatterns as project_urls


def brand_new(request):
    return HttpResponse("a view added without a rule")


urlpatterns = [*project_urls, path("brand-new/", brand_new, name="brand_new")]

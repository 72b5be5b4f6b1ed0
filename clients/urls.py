from django.urls import include, path

from .views import http_clients, request_logs

app_name = "clients"

urlpatterns = [
    # logs/ first: the HTTP Client pages end in a catch-all <identifier>/ ("logs" is reserved).
    path("logs/", include(request_logs.urlpatterns)),
    path("", include(http_clients.urlpatterns)),
]

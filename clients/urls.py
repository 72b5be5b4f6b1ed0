from django.urls import include, path

from .views import grant_access, http_client_wizard, http_clients, request_logs

app_name = "clients"

urlpatterns = [
    # logs/ first: the HTTP Client pages end in a catch-all <identifier>/ ("logs" is reserved).
    path("logs/", include(request_logs.urlpatterns)),
    path("", http_clients.http_client_list, name="list"),
    path("new/", http_client_wizard.create_platform, name="create"),
    path("new/settings/", http_client_wizard.create_settings, name="create_settings"),
    path("new/name/", http_client_wizard.create_name, name="create_name"),
    path("oauth/callback/", grant_access.oauth_callback, name="oauth_callback"),
    path("<slug:identifier>/", http_clients.http_client_detail, name="detail"),
    path("<slug:identifier>/edit/", http_clients.http_client_edit, name="edit"),
    path("<slug:identifier>/duplicate/", http_clients.http_client_duplicate, name="duplicate"),
    path("<slug:identifier>/delete/", http_clients.http_client_delete, name="delete"),
    path("<slug:identifier>/test/", http_clients.http_client_test, name="test"),
    path("<slug:identifier>/grant/", grant_access.http_client_grant, name="grant"),
]

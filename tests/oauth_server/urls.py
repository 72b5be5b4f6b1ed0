from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("copper/authorize/", views.PostCallbackAuthorizationView.as_view(), name="copper_authorize"),
    # Protected resources shaped like the platforms' "Test connection" calls.
    path("1.1/accounts", views.timely_accounts),
    path("developer_api/v1/account", views.copper_account),
    path("pipedrive/api/v1/users/me", views.pipedrive_me),
    # Test-only controls and counters.
    path("testing/stats", views.stats),
    path("testing/redirect-uris", views.set_redirect_uris),
]

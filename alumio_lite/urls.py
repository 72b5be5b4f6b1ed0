from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.signin_views import SignInView, sign_in_code
from connections.views import dashboard

from . import views

admin.site.site_header = "alumio-lite administration"
admin.site.site_title = "alumio-lite admin"

urlpatterns = [
    path("", dashboard.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/login/code/", sign_in_code, name="login_code"),
    path("account/", include("accounts.two_factor")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("clients/", include("clients.urls")),
    path("settings/users/", include("accounts.views")),
    path("settings/audit-log/", include("audit.views")),
    path("settings/variables/", include("variables.views")),
    path("", include("connections.urls")),
    path("connections/storages/", include("storages.views")),
    path("sync/", include("sync.views")),
    path("", include("webhooks.urls")),
    # One sign-in page for everything: the admin's own login form redirects to it.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
]

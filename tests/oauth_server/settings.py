"""Settings of the test-only OAuth provider. Everything comes from the environment set by run.py."""
import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "test-provider-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "tests.oauth_server",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.oauth_server.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [BASE_DIR / "templates"],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["OAUTH_SERVER_DB"]}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
# Cookies are per host, not per port: with its own names the provider's login can never
# overwrite the dashboard's session cookie when both run on this machine.
SESSION_COOKIE_NAME = "provider_sessionid"
CSRF_COOKIE_NAME = "provider_csrftoken"
LOGIN_URL = "/accounts/login/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; test-only
_APPS = json.loads(os.environ.get("OAUTH_SERVER_APPS", "{}"))


def _pkce_required(client_id: str) -> bool:
    """Per application, as its platform does: Copper-style apps require PKCE, others take none."""
    return _APPS.get(client_id, {}).get("pkce", True)


OAUTH2_PROVIDER = {
    "PKCE_REQUIRED": _pkce_required,
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("OAUTH_SERVER_TOKEN_TTL", "3600")),
    "ROTATE_REFRESH_TOKEN": True,
    "SCOPES": {"read": "Read", "write": "Write", "developer/v1/all": "Copper API"},
    "DEFAULT_SCOPES": ["read", "write"],
}

"""alumio-lite settings. Every knob is an environment variable with a safe default.

The defaults run everything on one machine with nothing but Python: a SQLite file and
Celery's filesystem broker under ./var. Production sets DATABASE_URL and CELERY_BROKER_URL.
"""
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.management.utils import get_random_secret_key

from .env import env, envbool, envint, envlist
from .private import private_dir, private_file, write_private

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = private_dir(Path(env("ALUMIO_VAR_DIR", str(BASE_DIR / "var"))))  # 0700: see private.py

DEBUG = envbool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/."""
    if env("SECRET_KEY"):
        return env("SECRET_KEY")
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        write_private(key_file, get_random_secret_key())
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

# Fernet keys for secrets stored in the database (API keys, client secrets, tokens).
# A comma-separated list: the first encrypts, all decrypt, so keys can be rotated with
# `manage.py rotate_encryption_key`. Without it a key is derived from SECRET_KEY.
ENCRYPTION_KEYS = envlist("ENCRYPTION_KEYS")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
# Public address of the dashboard, used to build OAuth redirect URIs behind a proxy.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if not env("ALLOWED_HOSTS") and urlsplit(PUBLIC_BASE_URL).hostname:
    ALLOWED_HOSTS.append(urlsplit(PUBLIC_BASE_URL).hostname)  # the public address is always answered

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # naturaltime: "20 seconds ago" where timesince says "0 minutes"
    "django_htmx",
    "django_celery_beat",
    "alumio_lite",  # site-wide management commands (start, worker_alive)
    "django_otp.plugins.otp_static",  # recovery codes (accounts.models.RecoveryCodes); kept out of the admin
    "accounts",  # users, roles and the per-URL permission map (accounts/access.py)
    "axes",  # failed sign-ins throttled per account and address
    "csp",
    "auditlog",  # who changed what and when (audit/registry.py says which models)
    "audit",
    "variables",  # ${NAME} environment variables
    "clients",
    "connections",
    "storages",
    "sync",
    "webhooks",
    "summaries",  # counts kept by triggers for the busy pages (tasks per route and status, requests per hour)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "webhooks.middleware.WebhookIntakeMiddleware",  # POST /webhooks/<id> skips the rest (public, JSON)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.RoleRequiredMiddleware",  # every URL checked against accounts/access.py
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",  # REQUIRE_TWO_FACTOR: set it up first
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy on every response
    "auditlog.middleware.AuditlogMiddleware",  # the signed-in user is the actor of audit entries
    "axes.middleware.AxesMiddleware",  # answers a locked-out sign-in with registration/locked_out.html
]

ROOT_URLCONF = "alumio_lite.urls"
WSGI_APPLICATION = "alumio_lite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'alumio-lite.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dashboard read while the worker writes; IMMEDIATE transactions take the
    # write lock up front, which is what select_for_update() gives on PostgreSQL.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # A file (not :memory:) so live_server threads and worker processes share it; one per
    # test process so parallel runs never collide.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / f"test-{os.getpid()}.sqlite3")
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        private_file(Path(DATABASES["default"]["NAME"]))  # 0600 before SQLite first opens it
else:
    # One test database per test process here too: a leftover or a parallel run never collides.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = f"test_{DATABASES['default']['NAME']}_{os.getpid()}"
    # No JIT and no parallel workers for this application's short queries: at ten million tasks the
    # planner's cost estimates pass jit_above_cost and the parallel thresholds for a LIMIT 50 read of
    # a hundred buffers, and compiling plus starting two workers took 20-370 ms of an admin search whose
    # work is 2-8 ms (benchmarks/README.md). Set DATABASE_PG_OPTIONS="" to keep the server's settings.
    if options := env("DATABASE_PG_OPTIONS", "-c jit=off -c max_parallel_workers_per_gather=0"):
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", options)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in hardening. django-axes counts failed sign-ins per account and address: after
# SIGN_IN_FAILURE_LIMIT in a row that pair is refused for SIGN_IN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("SIGN_IN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("SIGN_IN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "accounts.signin.client_ip"
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]  # masked in axes logs (code: the TOTP or recovery code)
# Optional two-factor sign-in (TOTP, accounts/two_factor.py). REQUIRE_TWO_FACTOR=1: every user must
# set it up before using the dashboard. OTP_TOTP_THROTTLE_FACTOR: wrong codes back off 1, 2, 4... s.
REQUIRE_TWO_FACTOR = envbool("REQUIRE_TWO_FACTOR", False)
OTP_TOTP_THROTTLE_FACTOR = envint("TWO_FACTOR_THROTTLE_FACTOR", 1)
OTP_STATIC_THROTTLE_FACTOR = OTP_TOTP_THROTTLE_FACTOR  # wrong recovery codes back off the same way
# A session ends SESSION_TIMEOUT_MINUTES after sign-in (Django's default is two weeks).
SESSION_COOKIE_AGE = envint("SESSION_TIMEOUT_MINUTES", 8 * 60) * 60
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Hashed, compressed file names for long caching in production (the Docker image sets
# STATIC_MANIFEST=1 after collectstatic); plain names locally and in tests, where
# whitenoise finds the files in static/ without a collectstatic step.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if envbool("STATIC_MANIFEST", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not envbool("STATIC_MANIFEST", False)

# Security: strict once the public address is HTTPS. A local run on http://127.0.0.1 cannot
# use Secure cookies, so those follow PUBLIC_BASE_URL unless set explicitly.
_HTTPS = PUBLIC_BASE_URL.startswith("https://")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", _HTTPS)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", _HTTPS)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", _HTTPS and not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if _HTTPS and not DEBUG else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# Joining the browsers' HSTS preload list binds every subdomain of the operator's domain for
# months; that is the operator's call (set SECURE_HSTS_PRELOAD=1), so its reminder is silenced.
SILENCED_SYSTEM_CHECKS = envlist("SILENCED_SYSTEM_CHECKS", "security.W021")
# Outbound policy (clients/outbound.py): HTTP Clients may call loopback, link-local and private
# addresses only when this is on. On by default for a local http:// run (bin/start, tests, fake
# platforms on 127.0.0.1); off once PUBLIC_BASE_URL is HTTPS, and off in docker-compose.yml.
ALLOW_PRIVATE_NETWORK = envbool("ALLOW_PRIVATE_NETWORK", not _HTTPS)
# Content-Security-Policy (django-csp) on every page: scripts and style sheets only from our own
# static files (no inline scripts or on* handlers: static/js/app.js handles data-confirm and the
# like); style="" attributes stay allowed for the few computed widths. No form-action: "Grant
# access" posts to us and is redirected on to the provider's authorize page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
BEHIND_PROXY = envbool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if PUBLIC_BASE_URL not in CSRF_TRUSTED_ORIGINS and PUBLIC_BASE_URL.startswith("https://"):
    CSRF_TRUSTED_ORIGINS.append(PUBLIC_BASE_URL)

# Celery. The default broker is kombu's filesystem transport: no server to run.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
        # How often an idle worker looks for new messages (seconds).
        "polling_interval": float(env("CELERY_BROKER_POLLING_INTERVAL", "0.1")),
    }
CELERY_TASK_IGNORE_RESULT = True  # state lives in our own tables, not in a result backend
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is delivered again...
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ...including when the process is killed
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat saves each job's "last run" after every job it sends, not every 3 minutes, so Schedulers
# shows a run that just happened (a handful of small writes a minute).
CELERY_BEAT_SYNC_EVERY = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# System jobs (heartbeat, repair, due tasks, retention) have a queue of their own, consumed by a
# worker that takes no user work (bin/start's "system" process, compose's beat service), so long
# runs and publications can never starve them.
CELERY_TASK_DEFAULT_QUEUE = "celery"
SYSTEM_QUEUE = "system"
CELERY_TASK_ROUTES = {
    name: {"queue": SYSTEM_QUEUE}
    for name in ("connections.heartbeat", "connections.repair", "connections.process_due_tasks", "connections.prune",
                 "webhooks.prune")
}  # webhooks.process_pending turns requests into tasks: user work, so it stays on the default queue

# Engine and logging knobs.
REQUEST_LOG_BODY_LIMIT = envint("REQUEST_LOG_BODY_LIMIT", 10_000)  # bytes kept per body
HTTP_CONNECT_TIMEOUT = float(env("HTTP_CONNECT_TIMEOUT", "5"))
HTTP_READ_TIMEOUT = float(env("HTTP_READ_TIMEOUT", "30"))
HTTP_MAX_RESPONSE_BYTES = envint("HTTP_MAX_RESPONSE_BYTES", 20_000_000)
# Files: a multipart part given as base64 or a URL, and a file answer kept as base64 for the next step.
HTTP_MAX_FILE_BYTES = envint("HTTP_MAX_FILE_BYTES", 10_000_000)
PAGINATION_PAGE_CAP = envint("PAGINATION_PAGE_CAP", 10_000)
# What one page of records may become (connections/storing.py): rows are written in batches of
# TASK_INSERT_BATCH, each its own short transaction; beyond a cap the run stops naming the record.
TASK_INSERT_BATCH = envint("TASK_INSERT_BATCH", 2_000)
RECORD_TASK_CAP = envint("RECORD_TASK_CAP", 10_000)  # tasks one record may become, over all routes
PAGE_TASK_CAP = envint("PAGE_TASK_CAP", 1_000_000)  # tasks one page may become
RECORD_MAX_CHARS = envint("RECORD_MAX_CHARS", 1_000_000)  # one task's data as JSON text
# A configurations file with more entries is imported by a worker, with progress (connections/import_jobs.py).
IMPORT_INLINE_LIMIT = envint("IMPORT_INLINE_LIMIT", 500)
# Retries in clients.http: 5xx and connection errors (idempotent requests only), and 429 waits,
# bounded in number and in total seconds before RateLimited is raised.
HTTP_MAX_RETRIES = envint("HTTP_MAX_RETRIES", 3)
HTTP_RETRY_BACKOFF = float(env("HTTP_RETRY_BACKOFF", "0.5"))  # seconds, doubled per attempt, plus jitter
HTTP_MAX_RATE_LIMIT_RETRIES = envint("HTTP_MAX_RATE_LIMIT_RETRIES", 5)
HTTP_MAX_RATE_LIMIT_WAIT = float(env("HTTP_MAX_RATE_LIMIT_WAIT", "120"))
# The shared rate budget per HTTP Client (clients/rate_budget): every worker process paces its calls
# to the platform's limit instead of provoking 429s. In Redis when the broker is Redis, else in the
# database. HEADROOM keeps that share of the limit free for clock jitter between us and the platform.
HTTP_RATE_BUDGET = envbool("HTTP_RATE_BUDGET", True)
HTTP_RATE_BUDGET_HEADROOM = float(env("HTTP_RATE_BUDGET_HEADROOM", "0.02"))
# The longest wait a platform's Retry-After (or reset header) may ask for; longer ones are capped.
HTTP_MAX_RETRY_AFTER = float(env("HTTP_MAX_RETRY_AFTER", "3600"))
# Every exchange with a platform (connect, headers, body) ends within this many seconds, even
# when the platform trickles its answer byte by byte (the read timeout is per read).
HTTP_TOTAL_TIMEOUT = float(env("HTTP_TOTAL_TIMEOUT", "120"))
# The same for one request to an OAuth token endpoint (code exchange, refresh); a refresh's
# lease on its client outlives it by 15 s (clients/token_refresh.py).
TOKEN_REQUEST_TIMEOUT = float(env("TOKEN_REQUEST_TIMEOUT", "45"))
# Picqer wants a contact in the User-Agent; an HTTP Client's own "User-Agent contact" wins.
PICQER_USER_AGENT_CONTACT = env("PICQER_USER_AGENT_CONTACT", "")
RETENTION_DAYS_TASKS = envint("RETENTION_DAYS_TASKS", 30)
RETENTION_DAYS_RUNS = envint("RETENTION_DAYS_RUNS", 30)
RETENTION_DAYS_REQUEST_LOGS = envint("RETENTION_DAYS_REQUEST_LOGS", 14)
# Worker processes that share one route's backlog when it starts publishing ("Process now", a run's
# new tasks): one message each. Match the workers' total concurrency.
PUBLISH_FANOUT = envint("PUBLISH_FANOUT", 2)
# Retention deletes this many rows per transaction, pausing between batches so workers get their turn.
RETENTION_BATCH = envint("RETENTION_BATCH", 2000)
# A Tasks search by record is stopped after this long on PostgreSQL (connections.task_search.within_budget).
TASK_SEARCH_TIMEOUT_MS = envint("TASK_SEARCH_TIMEOUT_MS", 3000)
# A search lists newest first when the newest this-many task ids hold a page of its matches, or when its
# label matches are fewer than the cap (read and sorted); else in label order (connections.task_search).
TASK_SEARCH_PROBE_WINDOW = envint("TASK_SEARCH_PROBE_WINDOW", 10_000)
TASK_SEARCH_SORT_CAP = envint("TASK_SEARCH_SORT_CAP", 2_000)
# With a date filter (listed by created_at) the newest-first read is tried for this long instead:
# a search of recent records takes 2-50 ms at 10M tasks; one whose matches are all old, minutes.
TASK_SEARCH_NEWEST_FIRST_MS = envint("TASK_SEARCH_NEWEST_FIRST_MS", 200)
RETENTION_PAUSE_SECONDS = float(env("RETENTION_PAUSE_SECONDS", "0.05"))
RETENTION_DAYS_AUDIT_LOG = envint("RETENTION_DAYS_AUDIT_LOG", 365)
# Audit entries store changes as JSON and never the objects' full state.
AUDITLOG_STORE_JSON_CHANGES = True
STUCK_TASK_TIMEOUT_MINUTES = envint("STUCK_TASK_TIMEOUT_MINUTES", 15)
# Webhooks: a claimed request whose worker went silent this long is processed again (no duplicates);
# received requests are kept like request logs; the sender's address behind our own proxy.
WEBHOOK_CLAIM_TIMEOUT_SECONDS = envint("WEBHOOK_CLAIM_TIMEOUT_SECONDS", 120)
RETENTION_DAYS_WEBHOOK_REQUESTS = envint("RETENTION_DAYS_WEBHOOK_REQUESTS", RETENTION_DAYS_REQUEST_LOGS)
WEBHOOK_TRUST_X_FORWARDED_FOR = envbool("BEHIND_PROXY", False)
# How long an accepted request waits for its group commit (committer.py) before answering 503.
WEBHOOK_COMMIT_TIMEOUT_SECONDS = envint("WEBHOOK_COMMIT_TIMEOUT_SECONDS", 20)
# Writer threads per process for the group commit (each its own connection; one on SQLite): while one
# batch waits for its commit, the next one starts instead of queueing behind it.
WEBHOOK_COMMIT_WRITERS = envint("WEBHOOK_COMMIT_WRITERS", 2)
# A run whose worker died is started again (from its first page; task keys prevent duplicates)
# up to this many times, then marked Failed.
MAX_RUN_RESUMES = envint("MAX_RUN_RESUMES", 3)
# Seconds one run of an incoming may take before Celery stops it (soft limit: the run ends
# Failed, saying so); a publisher or system job has limits of its own (connections/tasks.py).
RUN_TIME_LIMIT = envint("RUN_TIME_LIMIT", 6 * 3600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "clients.redaction.RedactingFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

"""Kith settings: everything comes from environment variables, with safe local defaults.

DATABASE_URL   sqlite:///path or postgres://user@host:port/name (default: SQLite in ./instance/)
REDIS_URL      redis://host:port/db — cache and rate limits shared between app servers
SECRET_KEY     generated once into ./instance/secret_key when unset
KITH_DEBUG     1 to enable debug pages (never in production)
KITH_DEFAULT_REGION  ISO region used to read phone numbers written without a country code
KITH_INSTANCE_DIR    folder for the local database, secret key and first-start marker
KITH_BASE_URL        the address people reach Kith at (links in emails); default http://127.0.0.1:$PORT
KITH_DEFAULT_CURRENCY  ISO 4217 code the product and price-list forms start with (default: none chosen)
KITH_COMPANY_NAME    the seller's name on quote PDFs and emails
KITH_PDF_FONT, KITH_PDF_FONT_BOLD, KITH_PDF_CJK_FONT  TrueType fonts of the PDFs (default: DejaVu Sans and
                     the first Chinese font installed, e.g. fonts-wqy-microhei)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("KITH_INSTANCE_DIR", BASE_DIR / "instance"))
INSTANCE_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("KITH_DEBUG")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "kith.core",
    "kith.security",
    "kith.audit",
    "kith.parties",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "kith.accounts",
    "kith.privacy",
    "kith.backups",
    "kith.jobs",
    "kith.webhooks",
    "kith.sales",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kith.accounts.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kith.accounts.middleware.RateLimitMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kith.audit.context.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kith.core.middleware.HtmxLoginRedirectMiddleware",
    "kith.accounts.middleware.AccountGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kith" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'kith.sqlite3'}"
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("KITH_DB_CONN_MAX_AGE", "60")))
# WAL lets readers run beside the writer (web + worker); IMMEDIATE avoids lock-upgrade deadlocks.
# read_uncommitted matters only in shared-cache mode, which only the tests' in-memory database uses: there
# a reader (a browser test's page) meeting another thread's write gets "table is locked" at once, where
# WAL on a file lets it read.
SQLITE_OPTIONS = {
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
        " PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456;"
        " PRAGMA read_uncommitted=1;"
    ),
    "transaction_mode": "IMMEDIATE",
}
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = dict(SQLITE_OPTIONS)
    _db["TEST"] = {"NAME": os.environ.get("KITH_TEST_SQLITE_NAME") or None}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "security.User"

# --- cache -----------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # clear() removes only keys under KEY_PREFIX (Django's own would empty the whole Redis database)
    CACHES = {
        "default": {
            "BACKEND": "kith.core.cache.PrefixedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "kith",
        }
    }
    if "PYTEST_XDIST_WORKER" in os.environ or "PYTEST_VERSION" in os.environ:
        # tests: a key space of this run and worker, so counters never meet another run's or worker's and
        # a test's cache.clear() leaves the other worker's alone
        CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}-{secrets.token_hex(4)}"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kith"}}

# --- background tasks --------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("KITH_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- auth -------------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["kith.accounts.backends.LockoutBackend"]
LOGIN_URL = "login"
# accounts (kith.accounts): lockout after KITH_LOCKOUT_FAILURES failed sign-ins within the window, per
# account and per address; sign-out after KITH_IDLE_TIMEOUT_MINUTES without a request; rate limits as
# "scope=requests/seconds" for login, search and api (or "off"); reverse proxies in front of Kith
KITH_LOCKOUT_FAILURES = int(os.environ.get("KITH_LOCKOUT_FAILURES", "5"))
KITH_LOCKOUT_ADDRESS_FAILURES = int(os.environ.get("KITH_LOCKOUT_ADDRESS_FAILURES", "20"))
KITH_LOCKOUT_WINDOW_MINUTES = int(os.environ.get("KITH_LOCKOUT_WINDOW_MINUTES", "15"))
KITH_LOCKOUT_MINUTES = int(os.environ.get("KITH_LOCKOUT_MINUTES", "15"))
KITH_IDLE_TIMEOUT_MINUTES = int(os.environ.get("KITH_IDLE_TIMEOUT_MINUTES", "30"))
KITH_RATE_LIMITS = os.environ.get("KITH_RATE_LIMITS", "login=10/60,search=120/60,api=1200/60")
KITH_TRUSTED_PROXIES = int(os.environ.get("KITH_TRUSTED_PROXIES", "0"))
OTP_TOTP_ISSUER = "Kith"
LOGIN_REDIRECT_URL = "parties:customer_list"
LOGOUT_REDIRECT_URL = "login"

# --- i18n / time --------------------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("KITH_LANGUAGE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "kith" / "locale"]
TIME_ZONE = os.environ.get("KITH_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- static -------------------------------------------------------------------------------------
# Sessions are read from the cache (Redis when REDIS_URL is set) and written through to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

FORM_RENDERER = "kith.core.forms_renderer.FastWidgetRenderer"

STATIC_URL = "static/"
# `kith collectstatic` target; the assets are served from the apps without it
STATIC_ROOT = INSTANCE_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "kith" / "static"]  # vendored assets (htmx) and the stylesheet
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- email --------------------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "kith@localhost")

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # token first, so that a request without credentials is a 401 (with WWW-Authenticate), not a 403
        "kith.security.authentication.CachedTokenAuthentication",
        "kith.security.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "kith.core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "kith.core.api.FastJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kith API",
    "DESCRIPTION": "Customer records, relationships, roles, timeline, anniversaries and search.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the vendored sidecar package: /api/docs/ loads nothing from the internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # "kind" names several choice sets (customer, interaction, special date): name each enum once.
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "kith.parties.choices.CustomerKind",
        "ConsumptionKindEnum": "kith.sales.models.consumption.ConsumptionKind",
        "ConsumptionSourceEnum": "kith.sales.models.consumption.ConsumptionSource",
        "ImportActionEnum": "kith.parties.imports.services.ACTIONS",
        "InteractionKindEnum": "kith.parties.choices.InteractionKind",
        "SpecialDateKindEnum": "kith.parties.choices.SpecialDateKind",
        "KindScopeEnum": "kith.parties.choices.KindScope",
        "CustomerStatusEnum": "kith.parties.choices.CustomerStatus",
        "CustomerSourceEnum": "kith.parties.choices.Source",
        "InteractionChannelEnum": "kith.parties.choices.Channel",
        "AuditSourceEnum": "kith.audit.choices.Source",
        "ConsentChannelEnum": "kith.privacy.choices.ConsentChannel",
        "ConsentStatusEnum": "kith.privacy.choices.ConsentStatus",
        "WebhookDeliveryStatusEnum": "kith.webhooks.choices.DeliveryStatus",
        "PriceSourceEnum": "kith.sales.choices.PriceSource",
    },
}

# --- web security (kith.accounts.middleware adds the Content-Security-Policy and Permissions-Policy) ---
# KITH_HTTPS=1 in production behind TLS: secure cookies, HSTS, redirect to https. KITH_PROXY_SSL_HEADER=1
# when a reverse proxy terminates TLS and sets X-Forwarded-Proto. HSTS preload is a separate opt-in.
KITH_HTTPS = _env_bool("KITH_HTTPS")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = KITH_HTTPS
SECURE_SSL_REDIRECT = KITH_HTTPS and not _env_bool("KITH_NO_SSL_REDIRECT")
SECURE_HSTS_SECONDS = int(os.environ.get("KITH_HSTS_SECONDS", "31536000")) if KITH_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = KITH_HTTPS
SECURE_HSTS_PRELOAD = _env_bool("KITH_HSTS_PRELOAD")
if _env_bool("KITH_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# joining the browsers' HSTS preload list is hard to undo, so it is the operator's explicit choice
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- Kith ---------------------------------------------------------------------------------------
# the address people reach Kith at, without a trailing slash: emails link to it (kith.core.links.absolute)
KITH_BASE_URL = (
    os.environ.get("KITH_BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
).rstrip("/")
KITH_DEFAULT_REGION = os.environ.get("KITH_DEFAULT_REGION", "US")
KITH_DEFAULT_CURRENCY = os.environ.get("KITH_DEFAULT_CURRENCY", "").strip().upper()
KITH_CUSTOMER_NUMBER_PATTERN = os.environ.get("KITH_CUSTOMER_NUMBER_PATTERN", "C{year}{seq:06}")
# --- sales (kith.sales; docs/sales-*.md) -----------------------------------------------------------
KITH_COMPANY_NAME = os.environ.get("KITH_COMPANY_NAME", "")
KITH_QUOTE_NUMBER_PATTERN = os.environ.get("KITH_QUOTE_NUMBER_PATTERN", "Q{year}-{seq:05}")
KITH_ORDER_NUMBER_PATTERN = os.environ.get("KITH_ORDER_NUMBER_PATTERN", "O{year}-{seq:05}")
KITH_INVOICE_NUMBER_PATTERN = os.environ.get("KITH_INVOICE_NUMBER_PATTERN", "INV{year}-{seq:05}")
KITH_INVOICE_DUE_DAYS = int(os.environ.get("KITH_INVOICE_DUE_DAYS", "30"))
KITH_CONTRACT_RENEWAL_DAYS = int(os.environ.get("KITH_CONTRACT_RENEWAL_DAYS", "30"))
KITH_CONTRACT_DOCUMENT_MAX_MB = int(os.environ.get("KITH_CONTRACT_DOCUMENT_MAX_MB", "10"))
KITH_PDF_FONT = os.environ.get("KITH_PDF_FONT", "")
KITH_PDF_FONT_BOLD = os.environ.get("KITH_PDF_FONT_BOLD", "")
KITH_PDF_CJK_FONT = os.environ.get("KITH_PDF_CJK_FONT", "")
# uploaded files (contract documents): private, served only through permission-checked views
MEDIA_ROOT = Path(os.environ.get("KITH_MEDIA_DIR") or INSTANCE_DIR / "media")
# an approved access request to a customer's sensitive fields lasts this many hours (kith.security)
KITH_ACCESS_GRANT_HOURS = int(os.environ.get("KITH_ACCESS_GRANT_HOURS", "24"))

# --- background jobs (kith.jobs) -------------------------------------------------------------------
# files jobs produce (exports, error reports): private folder; deleted KITH_JOB_FILE_DAYS after the job
KITH_JOBS_DIR = Path(os.environ.get("KITH_JOBS_DIR") or INSTANCE_DIR / "jobs")
KITH_JOB_FILE_DAYS = int(os.environ.get("KITH_JOB_FILE_DAYS", "7"))

# --- backups (kith.backups) -------------------------------------------------------------------------
# folder of `kith backup` files and their manifests; the daily job (run by `kith schedule`, which
# `kith serve` starts) backs up, verifies and keeps the newest KITH_BACKUP_KEEP scheduled backups
KITH_BACKUP_DIR = Path(os.environ.get("KITH_BACKUP_DIR") or INSTANCE_DIR / "backups")
KITH_BACKUP_SCHEDULE = _env_bool("KITH_BACKUP_SCHEDULE", default=True)
KITH_BACKUP_HOUR = int(os.environ.get("KITH_BACKUP_HOUR", "2"))
KITH_BACKUP_KEEP = int(os.environ.get("KITH_BACKUP_KEEP", "7"))
KITH_BACKUP_ENCRYPT = _env_bool("KITH_BACKUP_ENCRYPT")

# --- webhooks (kith.webhooks) ------------------------------------------------------------------------
# seconds a receiver has to answer; the delays between retries (one per retry, then the event is given
# up); failed attempts in a row after which a webhook whose delivery was given up is disabled; whether
# receivers on private, loopback or link-local addresses are allowed; days finished deliveries are kept
KITH_WEBHOOK_TIMEOUT = float(os.environ.get("KITH_WEBHOOK_TIMEOUT", "10"))
KITH_WEBHOOK_RETRY_SECONDS = [
    int(s)
    for s in os.environ.get("KITH_WEBHOOK_RETRY_SECONDS", "60,300,1800,7200,21600,43200,86400").split(",")
    if s.strip()
]
KITH_WEBHOOK_DISABLE_AFTER = int(os.environ.get("KITH_WEBHOOK_DISABLE_AFTER", "10"))
KITH_WEBHOOK_ALLOW_PRIVATE = _env_bool("KITH_WEBHOOK_ALLOW_PRIVATE")
KITH_WEBHOOK_KEEP_DAYS = int(os.environ.get("KITH_WEBHOOK_KEEP_DAYS", "30"))
# after a new signing secret, the previous one signs events too (a second v1) for this long
KITH_WEBHOOK_SECRET_GRACE_SECONDS = int(os.environ.get("KITH_WEBHOOK_SECRET_GRACE_SECONDS", "86400"))

# --- access alerts (kith.audit.watch) ---------------------------------------------------------------
# default daily thresholds per user (administrators change them on /audit/settings/; 0 = off)
KITH_ALERT_VIEWS_PER_DAY = int(os.environ.get("KITH_ALERT_VIEWS_PER_DAY", "200"))
KITH_ALERT_SEARCH_RESULTS_PER_DAY = int(os.environ.get("KITH_ALERT_SEARCH_RESULTS_PER_DAY", "5000"))
KITH_ALERT_EXPORTED_ROWS_PER_DAY = int(os.environ.get("KITH_ALERT_EXPORTED_ROWS_PER_DAY", "5000"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KITH_LOG_LEVEL", "WARNING")},
}

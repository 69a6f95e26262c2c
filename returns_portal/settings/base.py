"""Settings shared by every environment; the other modules only override.

Every value comes from the environment (or a `.env` file) through django-environ.
"""

from pathlib import Path

import environ

from returns_portal.database import with_prepared_statements, with_timeouts
from returns_portal.site_url import local_site_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Absolute links (emails, the printed admin login). Unset, they follow the address the
# local server listens on: `make run HOST=... PORT=...` passes both on.
SITE_URL = env(
    "SITE_URL",
    default=local_site_url(env("HOST", default="127.0.0.1"), env("PORT", default="8000")),
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "axes",
    "rma",
    "labels",
    "payments",
    "catalogue",
    "policies",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Inside CSP, so that its page gets the policy too.
    "rma.portal.middleware.PortalNotFoundMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last, so that nothing reads a body before its size is checked (see the module).
    "returns_portal.middleware.RequestSizeLimitMiddleware",
]

ROOT_URLCONF = "returns_portal.urls"
WSGI_APPLICATION = "returns_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
    {
        # The order page's lines only (rma/portal/order_lines.py `lines_markup`): Jinja2
        # renders their markup several times faster than Django's engine (docs/decisions.md).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "rma.portal.jinja_environment.environment"},
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# A database that accepts but never answers must not hold requests forever (seconds).
DB_CONNECT_TIMEOUT = env.float("DB_CONNECT_TIMEOUT", default=5)
DB_STATEMENT_TIMEOUT = env.float("DB_STATEMENT_TIMEOUT", default=30)
DATABASES["default"] = with_timeouts(
    DATABASES["default"],
    connect_timeout=DB_CONNECT_TIMEOUT,
    statement_timeout=DB_STATEMENT_TIMEOUT,
)
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)
DATABASES["default"] = with_prepared_statements(
    DATABASES["default"], enabled=DB_PREPARED_STATEMENTS
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://returns-portal")}
# A Redis that does not answer must not hold requests either (the lookup rate limits fall
# back to per-process counters when it is down).
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"].setdefault("OPTIONS", {})
    CACHES["default"]["OPTIONS"].setdefault(
        "socket_connect_timeout", env.float("CACHE_CONNECT_TIMEOUT", default=1.0)
    )
    CACHES["default"]["OPTIONS"].setdefault(
        "socket_timeout", env.float("CACHE_SOCKET_TIMEOUT", default=1.0)
    )

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Admin login throttling (django-axes): lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files served at the site root by WhiteNoise: /favicon.ico, which browsers ask every site for.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Never routed: private files (labels, photos) are served only through signed views.
MEDIA_URL = "/private-media/"

STORAGES = {
    "default": {
        "BACKEND": env(
            "DEFAULT_FILE_STORAGE", default="django.core.files.storage.FileSystemStorage"
        )
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if STORAGES["default"]["BACKEND"] == "storages.backends.s3.S3Storage":
    STORAGES["default"]["OPTIONS"] = {
        "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
        "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
        "region_name": env("AWS_S3_REGION_NAME", default=None),
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
    }

# Whether staff who receive parcels (the Warehouse group) may also resolve returns; by
# default customer care (agents, supervisors) does, and the warehouse screens say so.
WAREHOUSE_CAN_RESOLVE = env.bool("WAREHOUSE_CAN_RESOLVE", default=False)

# Upload limits: photo uploads are validated per file by the portal form as well.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Every request body, uploads included, is refused (413) past this size before it is read.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=12 * 1024 * 1024)
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=5 * 1024 * 1024)
# Width times height: a small file can still decode to a huge image.
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=40_000_000)
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=256 * 1024)

# Email through django-anymail: any provider by EMAIL_BACKEND + ANYMAIL settings.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "sent-emails"))
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="returns@localhost")
ANYMAIL = env.dict("ANYMAIL", default={})

# Celery: with no broker configured every task runs eagerly, in-process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # An eager task still takes a producer from the broker's pool: make it an in-memory
    # one (named, or kombu warns of a missing host name for every task).
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Longer than the longest retry delay, so a late-acked task is never redelivered while it waits.
# A task whose worker died is redelivered after this many seconds (tests make it short).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60)
}
# A broker that is down must not hold up the request that enqueues: give up fast, the
# sweeper re-enqueues from the outbox rows.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TIMEZONE = "UTC"
# Outbox rows older than this that are still pending are enqueued again by the sweeper.
SWEEPER_GRACE_SECONDS = env.int("SWEEPER_GRACE_SECONDS", default=300)
CELERY_BEAT_SCHEDULE = {
    "sweep-outboxes": {"task": "rma.sweep", "schedule": 60.0},
    "expire-rmas": {"task": "rma.expire_overdue", "schedule": 15 * 60.0},
    "purge-api-transactions": {"task": "rma.purge_api_transactions", "schedule": 24 * 3600.0},
    "sweep-refunds": {"task": "payments.sweep_refunds", "schedule": 60.0},
    "sweep-label-refunds": {"task": "labels.sweep_label_refunds", "schedule": 5 * 60.0},
}
# generateRMA replays a transactionId's first response for this long (at least 7 days).
API_TRANSACTION_RETENTION_DAYS = max(7, env.int("API_TRANSACTION_RETENTION_DAYS", default=30))

# Return labels: builtin (WeasyPrint PDF), http (external service) or none.
LABEL_SERVICE = env("LABEL_SERVICE", default="builtin")
LABEL_SERVICE_URL = env("LABEL_SERVICE_URL", default="")
LABEL_SERVICE_API_KEY = env("LABEL_SERVICE_API_KEY", default="")
LABEL_SERVICE_TIMEOUT = env.float("LABEL_SERVICE_TIMEOUT", default=10.0)

# Outbound HTTP (webhooks, label service, carriers, refunds) reaches public addresses only;
# 1 lets it reach loopback and private networks too (local development, tests).
ALLOW_PRIVATE_OUTBOUND = env.bool("ALLOW_PRIVATE_OUTBOUND", default=False)
# Carriers (LABEL_SERVICE=easypost or shippo, docs/labels.md). The API bases default to
# the libraries' own; tests point them at local fakes.
EASYPOST_API_KEY = env("EASYPOST_API_KEY", default="")
EASYPOST_API_BASE = env("EASYPOST_API_BASE", default="https://api.easypost.com/v2")
EASYPOST_WEBHOOK_SECRET = env("EASYPOST_WEBHOOK_SECRET", default="")
SHIPPO_API_KEY = env("SHIPPO_API_KEY", default="")
SHIPPO_API_BASE = env("SHIPPO_API_BASE", default="https://api.goshippo.com")
SHIPPO_WEBHOOK_TOKEN = env("SHIPPO_WEBHOOK_TOKEN", default="")

# Refunds (docs/money.md): none (the rma.resolved webhook tells the store) or stripe.
REFUND_SERVICE = env("REFUND_SERVICE", default="none")
STRIPE_API_KEY = env("STRIPE_API_KEY", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_TIMEOUT = env.float("STRIPE_TIMEOUT", default=10.0)

# Signed links (status page, label download) stay valid this long.
SIGNED_LINK_MAX_AGE_DAYS = env.int("SIGNED_LINK_MAX_AGE_DAYS", default=180)

# Portal lookup rate limits (failed attempts per window).
LOOKUP_RATE_LIMIT_PER_ORDER = env("LOOKUP_RATE_LIMIT_PER_ORDER", default="5/15m")
LOOKUP_RATE_LIMIT_PER_ADDRESS = env("LOOKUP_RATE_LIMIT_PER_ADDRESS", default="20/15m")
# How many of our proxies stand in front of the app: 0 = the socket address is the client;
# N = the Nth address from the right of X-Forwarded-For (returns_portal/client_address.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "returns_portal.client_address.client_address"
RATELIMIT_VIEW = "rma.portal.views.rate_limited"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Returns portal RMA service API",
    "DESCRIPTION": "Radial-compatible RMA service: checkEligibility, generateRMA, lookupRMA.",
    "VERSION": "1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No validator badge: it would load an image from validator.swagger.io (and the CSP
    # blocks it anyway).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# Content Security Policy (django-csp 4): everything from our own origin, nothing inline
# without a nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # Quiet at INFO: django-axes's start-up line on every command, WeasyPrint's rendering
    # steps for every label. Their warnings and errors still show.
    "loggers": {
        "axes.apps": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
    },
}

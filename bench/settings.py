"""Settings of `make bench`: the production-like stack on the bench's own PostgreSQL database.

Only what a benchmark needs differs from `base`: DEBUG off, quiet logging, persistent
database connections (as a production deployment sets them; a new connection per request
would add the same few milliseconds to every figure and hide the differences), static
files from a manifest, Celery publishing to a broker that no worker consumes (production
does the follow-up work in workers, not in the request), and the floor views.
"""

from returns_portal.settings.base import *  # noqa: F403
from returns_portal.settings.base import BASE_DIR, MIDDLEWARE, STORAGES, env

BENCH_DATA = BASE_DIR / "bench" / ".data"

DEBUG = False
ROOT_URLCONF = "bench.urls"
# First, so the count covers every query of the request, the session's included.
MIDDLEWARE = ["bench.middleware.query_count", *MIDDLEWARE]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/returns_bench")
}
DATABASES["default"]["CONN_MAX_AGE"] = 600

STATIC_ROOT = BENCH_DATA / "static"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
MEDIA_ROOT = BENCH_DATA / "media"

# `memory://` when the harness found no redis-server: tasks are published and dropped.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "ERROR"},
}

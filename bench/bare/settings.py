"""Settings of the bare floor (bench/bare): Django with nothing of the project.

No installed apps, no middleware, no templates engine, no i18n; one persistent
PostgreSQL connection per worker (no health check). Its views run one SQL statement
for the order and its lines and write the response by hand. What is left is the
least any Django app on this stack can cost: gunicorn, the WSGI handler, URL
resolution, one round trip to PostgreSQL and the response.
"""

import os

SECRET_KEY = os.environ.get("BARE_SECRET_KEY", "bare-floor-only-serves-the-bench-on-loopback")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.bare.urls"
USE_I18N = False
USE_TZ = True
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("BARE_DATABASE_NAME", "returns_bench"),
        "USER": os.environ.get("BARE_DATABASE_USER", "postgres"),
        "PASSWORD": os.environ.get("BARE_DATABASE_PASSWORD", ""),
        "HOST": os.environ.get("BARE_DATABASE_HOST", "127.0.0.1"),
        "PORT": os.environ.get("BARE_DATABASE_PORT", "5432"),
        "CONN_MAX_AGE": None,
    }
}
LOGGING_CONFIG = None

"""Test settings: fast hashing, in-memory email and cache, eager tasks unless a broker is given."""

from returns_portal.database import with_prepared_statements, with_timeouts

from .base import *  # noqa: F403
from .base import BASE_DIR, DB_CONNECT_TIMEOUT, DB_PREPARED_STATEMENTS, DB_STATEMENT_TIMEOUT, env

DATABASES = {
    "default": with_prepared_statements(
        with_timeouts(
            env.db("DATABASE_URL", default="sqlite://:memory:"),
            connect_timeout=DB_CONNECT_TIMEOUT,
            statement_timeout=DB_STATEMENT_TIMEOUT,
        ),
        enabled=DB_PREPARED_STATEMENTS,
    )
}
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default=None)}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".test-media")
CELERY_TASK_ALWAYS_EAGER = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=False)
# The fake providers and receivers of the tests listen on 127.0.0.1; the SSRF tests turn
# this off.
ALLOW_PRIVATE_OUTBOUND = env.bool("ALLOW_PRIVATE_OUTBOUND", default=True)
LOGGING = {"version": 1, "disable_existing_loggers": False}

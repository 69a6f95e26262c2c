"""Production: refuse to start without real secrets; secure transport everywhere."""

from django.core.exceptions import ImproperlyConfigured

from returns_portal.secret_keys import check_secret_key

from .base import *  # noqa: F403
from .base import BASE_DIR, CACHES, DATABASES, MEDIA_ROOT, STATIC_ROOT, env

# A key that is short, or written anywhere in the code base (settings default, compose
# file, examples, docs), is refused: anyone could sign links with it.
SECRET_KEY = env("SECRET_KEY", default="")
check_secret_key(SECRET_KEY, root=BASE_DIR, skip=[MEDIA_ROOT, STATIC_ROOT])
# Earlier keys, still accepted for signatures during a rotation; the same rules.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
for fallback in SECRET_KEY_FALLBACKS:
    check_secret_key(
        fallback, root=BASE_DIR, name="SECRET_KEY_FALLBACKS", skip=[MEDIA_ROOT, STATIC_ROOT]
    )
DEBUG = False
# Persistent connections (one per web or worker process, reused across requests), checked
# before reuse so a dropped connection is replaced rather than failing a request. Each
# gunicorn worker and Celery process is single-threaded, so a pool per process would hold
# no more than this one connection; see docs/operations.md for sizing.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
# Sessions read from the shared Redis cache and written through to the database: each
# portal page reads its session without a database query, and a flushed or restarted
# Redis loses no session (the row is read again). Only with the shared cache: a cache
# per process would serve a session another process has since changed.
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

"""Settings of `make bench`: the SHIPPED production settings, plus one bench middleware.

Everything comes from `returns_portal.settings.production` as a deployment runs it,
configured through the environment as docs/operations.md says (the harness sets a
random `SECRET_KEY`, `ALLOWED_HOSTS`, `DATABASE_URL`, `CACHE_URL` and
`CELERY_BROKER_URL` to a private Redis, and `LOG_LEVEL`). Requests arrive as from a
TLS-terminating proxy (`X-Forwarded-Proto: https`), so nothing is redirected.

Two additions, neither of which changes what a request does:

- `bench.middleware.query_count` first, so every response carries the number of SQL
  queries it ran (session included) in `X-Bench-Queries`;
- `STATIC_ROOT` in the bench's own git-ignored directory, so `collectstatic` does not
  write into the checkout's `staticfiles/`. The storage class is production's.

`bench.settings_floor` adds the in-project floor views (bench/floor.py) on a server of
their own, so the app under test keeps production's URLs.
"""

from returns_portal.settings.production import *  # noqa: F403
from returns_portal.settings.production import BASE_DIR, MIDDLEWARE

BENCH_DATA = BASE_DIR / "bench" / ".data"

# First, so the count covers every query of the request, the session's included.
MIDDLEWARE = ["bench.middleware.query_count", *MIDDLEWARE]
STATIC_ROOT = BENCH_DATA / "static"
MEDIA_ROOT = BENCH_DATA / "media"

"""Database connection settings every environment shares: connect and statement timeouts.

A database that accepts connections but never answers would otherwise hold every web
request and task forever. For PostgreSQL:

- `DB_CONNECT_TIMEOUT` (seconds, default 5): libpq's `connect_timeout`, for the whole
  connection set-up (TCP, TLS, authentication). Whole seconds; at least 1.
- `DB_STATEMENT_TIMEOUT` (seconds, default 30; 0 turns it off): the server cancels any
  statement running longer (`statement_timeout`, sent as a start-up option). Raise it,
  or set 0, for migrations and maintenance commands that run long on big tables.

Other engines are left as they are (SQLite has no server to wait for).
"""

from __future__ import annotations

import math

POSTGRESQL = "django.db.backends.postgresql"


def with_timeouts(config: dict, *, connect_timeout: float, statement_timeout: float) -> dict:
    """`config` (one `DATABASES` entry) with the timeouts in its OPTIONS; values from the
    database URL's own query string win."""
    if config.get("ENGINE") != POSTGRESQL:
        return config
    options = dict(config.get("OPTIONS") or {})
    if connect_timeout > 0:
        options.setdefault("connect_timeout", max(1, math.ceil(connect_timeout)))
    if statement_timeout > 0 and "statement_timeout" not in options.get("options", ""):
        milliseconds = max(1, round(statement_timeout * 1000))
        options["options"] = (
            f"{options.get('options', '')} -c statement_timeout={milliseconds}".strip()
        )
    return {**config, "OPTIONS": options}

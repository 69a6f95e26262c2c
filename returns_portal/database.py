"""Database connection settings every environment shares: connect and statement timeouts.

A database that accepts connections but never answers would otherwise hold every web
request and task forever. For PostgreSQL:

- `DB_CONNECT_TIMEOUT` (seconds, default 5): libpq's `connect_timeout`, for the whole
  connection set-up (TCP, TLS, authentication). Whole seconds; at least 1.
- `DB_STATEMENT_TIMEOUT` (seconds, default 30; 0 turns it off): the server cancels any
  statement running longer (`statement_timeout`, sent as a start-up option). Raise it,
  or set 0, for migrations and maintenance commands that run long on big tables.

Other engines are left as they are (SQLite has no server to wait for).

And prepared statements: with `DB_PREPARED_STATEMENTS` (default on), PostgreSQL plans
the hot statements of `rma/prepared.py` once per connection instead of on every run
(Django's own queries bind on the client and are never prepared). Through PgBouncer in
transaction mode they need PgBouncer 1.21 or later with `max_prepared_statements` set;
otherwise turn them off.
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


def with_prepared_statements(config: dict, *, enabled: bool) -> dict:
    """`config` with psycopg's `prepare_threshold` in its OPTIONS when `enabled` (Django
    passes None, which turns prepared statements off on the connection)."""
    if config.get("ENGINE") != POSTGRESQL or not enabled:
        return config
    # psycopg's own default; `rma/prepared.py` prepares its statements on their first run.
    return {**config, "OPTIONS": {"prepare_threshold": 5, **(config.get("OPTIONS") or {})}}

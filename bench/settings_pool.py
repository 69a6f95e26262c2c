"""For the connection comparison only (bench/run.py): production settings with Django's
psycopg pool instead of one persistent connection per process (CONN_MAX_AGE must be 0
with a pool)."""

from bench.settings import *  # noqa: F403
from bench.settings import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
DATABASES["default"]["OPTIONS"] = {
    **DATABASES["default"].get("OPTIONS", {}),
    "pool": {"min_size": 1, "max_size": 2},
}

"""The in-project floor (bench/floor.py): production settings and middleware, plus the
floor views' URLs. Served by a gunicorn of its own, next to the app under test."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

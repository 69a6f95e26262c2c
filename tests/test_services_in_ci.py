"""Proves which services the suite ran against (CI runs with REQUIRE_SERVICES=1)."""

import os

import pytest
from django.db import connection


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_is_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
    assert version.startswith("PostgreSQL")


@pytest.mark.redis
def test_broker_is_reachable_redis():
    import redis

    client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"], socket_timeout=3)
    assert client.ping() is True

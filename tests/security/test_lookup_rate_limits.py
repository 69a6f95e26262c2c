"""Lookup rate limits: the client address behind proxies, an atomic count under a burst
(real threads, real Redis, real PostgreSQL), and lookups that survive a dead cache."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory

from returns_portal.client_address import client_address
from rma.portal import throttle
from tests.rma.portal.conftest import (  # noqa: F401 (fixtures)
    _language_restored,
    look_up,
    order,
    store,
)


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()  # the test settings' in-memory cache; the Redis tests use their own prefix
    throttle._local_counters.clear()
    throttle._last_warning = 0.0
    yield
    throttle._local_counters.clear()


# --- the client address ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "", "10.0.0.2"),
        (0, "203.0.113.7", "10.0.0.2"),  # no proxy trusted: the header is anyone's
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # left part sent by the client
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.5", "203.0.113.7"),
        (2, "203.0.113.7", "203.0.113.7"),  # fewer than N: the leftmost
        (1, "", "10.0.0.2"),
        (1, "not-an-address", "10.0.0.2"),
        (1, "2001:db8::7", "2001:db8::7"),
    ],
)
def test_client_address(settings, proxies, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", **extra)
    assert client_address(request) == expected


PROXY = {"REMOTE_ADDR": "10.0.0.2"}


def shopper(address: str, spoofed: str = "") -> dict:
    forwarded = f"{spoofed}, {address}" if spoofed else address
    return {**PROXY, "HTTP_X_FORWARDED_FOR": forwarded}


@pytest.mark.django_db
def test_behind_a_proxy_each_shopper_has_their_own_allowance(client, order, settings):  # noqa: F811
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOOKUP_RATE_LIMIT_PER_ADDRESS = "2/15m"
    for number in ("A-1", "A-2"):
        assert look_up(client, number, "x@example.com", **shopper("203.0.113.7")).status_code == 200
    blocked = look_up(client, "A-3", "x@example.com", **shopper("203.0.113.7"))
    assert blocked.status_code == 429
    # Another shopper behind the same proxy is not blocked with them...
    other = look_up(Client(), order.order_id, order.customer_email, **shopper("198.51.100.4"))
    assert other.status_code == 302
    # ...and the blocked one cannot get out by sending addresses of their own.
    spoofing = look_up(client, "A-4", "x", **shopper("203.0.113.7", spoofed="192.0.2.99"))
    assert spoofing.status_code == 429


@pytest.mark.django_db
def test_without_trusted_proxies_the_forwarded_header_is_ignored(client, order, settings):  # noqa: F811
    settings.LOOKUP_RATE_LIMIT_PER_ADDRESS = "2/15m"
    for number, claimed in (("A-1", "192.0.2.1"), ("A-2", "192.0.2.2")):
        assert look_up(client, number, "x", **shopper(claimed)).status_code == 200
    assert look_up(client, "A-3", "x", **shopper("192.0.2.3")).status_code == 429


# --- a burst of simultaneous failures ----------------------------------------------------


BURST = 20
LIMIT = 5


@pytest.fixture
def shared_redis_cache(settings):
    """The Redis of the test run (CELERY_BROKER_URL's server and db) as the shared cache."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CELERY_BROKER_URL"],
            "KEY_PREFIX": f"test-throttle-{uuid.uuid4().hex}",
        }
    }


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_simultaneous_failures_never_passes_the_limit(
    order,  # noqa: F811
    settings,
    shared_redis_cache,
):
    settings.LOOKUP_RATE_LIMIT_PER_ORDER = f"{LIMIT}/15m"
    settings.LOOKUP_RATE_LIMIT_PER_ADDRESS = "1000/15m"
    start = threading.Barrier(BURST)
    statuses = []

    def wrong_guess(attempt: int):
        try:
            start.wait()
            response = look_up(Client(), order.order_id, f"guess{attempt}@example.com")
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrong_guess, args=(n,)) for n in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(statuses) == BURST
    assert statuses.count(200) == LIMIT, statuses
    assert statuses.count(429) == BURST - LIMIT
    # The failures stay counted: the right details are refused too until the window ends.
    assert look_up(Client(), order.order_id, order.customer_email).status_code == 429


# --- the cache is down -------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dead_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.mark.django_db
def test_lookups_keep_working_when_the_cache_is_unreachable(
    client,
    order,  # noqa: F811
    settings,
    dead_cache,
    caplog,
):
    settings.LOOKUP_RATE_LIMIT_PER_ORDER = "3/15m"
    caplog.set_level(logging.WARNING, logger="rma.portal.throttle")

    found = look_up(client, order.order_id, order.customer_email)
    assert found.status_code == 302
    for attempt in range(3):
        assert look_up(client, order.order_id, f"g{attempt}@example.com").status_code == 200
    # The limits still hold, counted in this process.
    assert look_up(client, order.order_id, order.customer_email).status_code == 429

    warnings = [record for record in caplog.records if "cache is unreachable" in record.message]
    assert len(warnings) == 1, "logged, but not once per lookup"


@pytest.mark.django_db
def test_admin_lockout_uses_the_same_client_address(settings):
    from django.urls import reverse

    from tests.factories import UserFactory

    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="agent", is_staff=True, password="correct-horse-battery")
    login = reverse("admin:login")
    guesser, agent = Client(), Client()
    for _ in range(2):
        guesser.post(login, {"username": "agent", "password": "wrong"}, **shopper("203.0.113.7"))
    locked = guesser.post(
        login, {"username": "agent", "password": "correct-horse-battery"}, **shopper("203.0.113.7")
    )
    assert locked.status_code == 429
    # The agent's own login, through the same proxy from another address, still works.
    allowed = agent.post(
        login, {"username": "agent", "password": "correct-horse-battery"}, **shopper("198.51.100.4")
    )
    assert allowed.status_code == 302


@pytest.mark.django_db
def test_admin_lockout_ignores_forwarded_addresses_from_untrusted_clients(settings):
    from django.urls import reverse

    from tests.factories import UserFactory

    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="agent", is_staff=True)
    login = reverse("admin:login")
    guesser = Client()
    for number in range(2):
        guesser.post(
            login, {"username": "agent", "password": "wrong"}, **shopper(f"192.0.2.{number}")
        )
    locked = guesser.post(
        login, {"username": "agent", "password": "correct-horse-battery"}, **shopper("192.0.2.9")
    )
    assert locked.status_code == 429

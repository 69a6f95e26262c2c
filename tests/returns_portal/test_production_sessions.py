"""Production reads sessions from the shared Redis cache (written through to the database)."""

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.returns_portal.test_database_timeouts import run_production
from tests.rma.portal.conftest import look_up, order, order_path, store  # noqa: F401 (fixtures)

CACHED_DB = "django.contrib.sessions.backends.cached_db"
SHOW_ENGINE = "from django.conf import settings; print(settings.SESSION_ENGINE)"


def test_production_reads_sessions_through_the_redis_cache():
    result = run_production(SHOW_ENGINE, CACHE_URL="redis://127.0.0.1:6379/13")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == CACHED_DB


def test_without_a_shared_cache_sessions_stay_in_the_database():
    result = run_production(SHOW_ENGINE, CACHE_URL="locmemcache://")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "django.contrib.sessions.backends.db"


@override_settings(SESSION_ENGINE=CACHED_DB)
def test_a_granted_order_page_reads_its_session_from_the_cache(client, order):  # noqa: F811
    assert look_up(client, order.order_id, order.customer_email).status_code == 302

    with CaptureQueriesContext(connection) as queries:
        response = client.get(order_path(order))

    assert response.status_code == 200
    assert order.order_id in response.content.decode()
    assert not [query for query in queries if "django_session" in query["sql"]]


@override_settings(SESSION_ENGINE=CACHED_DB)
def test_a_session_whose_cache_entry_is_gone_is_read_from_the_database(
    client,
    order,  # noqa: F811
):
    from django.core.cache import cache

    assert look_up(client, order.order_id, order.customer_email).status_code == 302
    cache.clear()  # Redis flushed or restarted

    with CaptureQueriesContext(connection) as queries:
        response = client.get(order_path(order))

    assert response.status_code == 200
    assert [query for query in queries if "django_session" in query["sql"]]

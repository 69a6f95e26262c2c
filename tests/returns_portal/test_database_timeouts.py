"""Database connect and statement timeouts; persistent connections in production.

The production settings are loaded in a subprocess (`manage.py shell -c ...`), as a web
or worker process loads them, with the variables under test in its environment.
"""

import os
import secrets
import socket
import subprocess
import sys

import pytest

from returns_portal.database import with_prepared_statements, with_timeouts
from tests.returns_portal.test_settings import ROOT

POSTGRES = {"ENGINE": "django.db.backends.postgresql", "NAME": "returns", "OPTIONS": {}}
# Bounds each subprocess: a missing timeout shows as a failed test, never a hung run.
BOUND_SECONDS = 60


def run_production(code: str, **env) -> subprocess.CompletedProcess:
    """`manage.py shell -c code` with the production settings and `env`."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DB_", "CONN_")) and key not in ("DJANGO_ALLOW_ASYNC_UNSAFE",)
    }
    environment |= {
        "DJANGO_SETTINGS_MODULE": "returns_portal.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "returns.example.com",
        **env,
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=BOUND_SECONDS,
    )


def test_postgresql_gets_both_timeouts():
    config = with_timeouts(POSTGRES, connect_timeout=5, statement_timeout=30)
    assert config["OPTIONS"] == {"connect_timeout": 5, "options": "-c statement_timeout=30000"}
    assert POSTGRES["OPTIONS"] == {}, "the given config is not changed"


def test_options_from_the_database_url_are_kept():
    config = {**POSTGRES, "OPTIONS": {"sslmode": "require", "options": "-c search_path=app"}}
    options = with_timeouts(config, connect_timeout=2.5, statement_timeout=0.25)["OPTIONS"]
    assert options == {
        "sslmode": "require",
        "connect_timeout": 3,  # libpq takes whole seconds
        "options": "-c search_path=app -c statement_timeout=250",
    }


def test_zero_turns_a_timeout_off_and_other_engines_are_untouched():
    assert with_timeouts(POSTGRES, connect_timeout=0, statement_timeout=0)["OPTIONS"] == {}
    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    assert with_timeouts(sqlite, connect_timeout=5, statement_timeout=30) == sqlite


def test_production_uses_persistent_checked_connections_with_timeouts():
    result = run_production(
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], sorted(d['OPTIONS'].items()))",
        DATABASE_URL="postgres://returns:returns@db.invalid:5432/returns",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "60 True [('connect_timeout', 5), ('options', '-c statement_timeout=30000'), "
        "('prepare_threshold', 5)]"
    )


def test_prepared_statements_can_be_turned_off():
    result = run_production(
        "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])",
        DATABASE_URL="postgres://returns:returns@db.invalid:5432/returns",
        DB_PREPARED_STATEMENTS="false",
    )
    assert result.returncode == 0, result.stderr
    assert "prepare_threshold" not in result.stdout


def test_prepared_statements_only_for_postgresql_and_as_the_url_says():
    assert with_prepared_statements(POSTGRES, enabled=True)["OPTIONS"] == {"prepare_threshold": 5}
    assert POSTGRES["OPTIONS"] == {}, "the given config is not changed"
    assert with_prepared_statements(POSTGRES, enabled=False) == POSTGRES
    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    assert with_prepared_statements(sqlite, enabled=True) == sqlite
    from_url = {**POSTGRES, "OPTIONS": {"prepare_threshold": 1}}
    assert with_prepared_statements(from_url, enabled=True) == from_url


@pytest.mark.postgres
def test_statement_timeout_cancels_a_statement_that_runs_too_long():
    result = run_production(
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SELECT pg_sleep(30)')\n",
        DATABASE_URL=os.environ["DATABASE_URL"],
        DB_STATEMENT_TIMEOUT="0.2",
    )
    assert result.returncode != 0
    assert "canceling statement due to statement timeout" in result.stderr


@pytest.fixture
def silent_database():
    """A TCP port that accepts connections (the kernel completes the handshake) and never
    says a word: a database server that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_connect_timeout_gives_up_on_a_database_that_never_answers(silent_database):
    try:
        result = run_production(
            "from django.db import connection\nconnection.ensure_connection()\n",
            DATABASE_URL=f"postgres://returns:returns@127.0.0.1:{silent_database}/returns",
            DB_CONNECT_TIMEOUT="1",
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the connection attempt was still waiting: no connect timeout")
    assert result.returncode != 0
    assert "timeout" in result.stderr.lower()


def test_compose_sets_the_timeouts_and_lets_migrations_run_long():
    import yaml

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DB_CONNECT_TIMEOUT"] == "5"
        assert environment["DB_STATEMENT_TIMEOUT"] == "30"
        assert int(environment["CONN_MAX_AGE"]) > 0
    assert services["migrate"]["environment"]["DB_STATEMENT_TIMEOUT"] == "0"

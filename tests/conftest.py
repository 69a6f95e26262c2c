"""Shared fixtures.

Tests marked `postgres` or `redis` need those services. Without them they skip, unless
REQUIRE_SERVICES=1 (as in CI), where a missing service fails them instead.
"""

import os

import pytest
from django.db import connection
from hypothesis import settings as hypothesis_settings
from playwright.sync_api import sync_playwright

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"

# In CI the generated examples are the same on every run, so a build is green or red for
# the code and not for the draw; developers' runs keep exploring new examples.
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def missing_services(item) -> list[str]:
    missing = []
    if "postgres" in item.keywords and connection.vendor != "postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    if "redis" in item.keywords and not os.environ.get("CELERY_BROKER_URL"):
        missing.append("Redis (CELERY_BROKER_URL)")
    return missing


def pytest_runtest_setup(item):
    missing = missing_services(item)
    if missing and REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but this test's services are missing: {missing}")
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Headless system Chromium (never a downloaded browser), shared by the browser tests."""
    # Playwright's sync API keeps an event loop running in this thread, which Django's ORM
    # takes for async code. The test's own queries are plain sync code: allow them here.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()

"""Fixtures for the reliability suite: Redis, a real Celery worker, a fake label service.

Every test here runs on PostgreSQL with real transactions and on a real Redis broker
(CELERY_BROKER_URL, its own database number): the project's Celery app is switched
from eager to publishing for the test, and a worker consumes what it publishes.
"""

from __future__ import annotations

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.core import mail

from tests.factories import OrderLineFactory

from . import pipeline
from .label_server import FakeLabelService
from .pipeline import BROKER_URL, parse_email, purge_broker
from .pipeline import celery_app as project_celery_app

LABEL_API_KEY = "label-service-test-key"
# The http adapter's connect and read timeout in these tests (seconds).
LABEL_TIMEOUT = 0.5
# Retry delays in these tests (seconds): the real ones are minutes.
TINY_BACKOFF = 0.05


@pytest.fixture
def email_dir(tmp_path):
    """Where worker processes write their emails (`pipeline.file_email_env`)."""
    directory = tmp_path / "emails"
    directory.mkdir()
    return directory


@pytest.fixture
def broker():
    """A client of the test broker's Redis database, emptied before and after the test."""
    client = redis.Redis.from_url(BROKER_URL, socket_timeout=5)
    purge_broker(client)
    yield client
    purge_broker(client)
    client.close()


@pytest.fixture
def celery_app(transactional_db, broker):
    """The project's Celery app publishing to Redis instead of running tasks eagerly."""
    conf = project_celery_app.conf
    saved = {key: conf[key] for key in ("task_always_eager", "worker_hijack_root_logger")}
    # Leave pytest's logging alone when an embedded worker starts.
    conf.update(task_always_eager=False, worker_hijack_root_logger=False)
    yield project_celery_app
    conf.update(saved)


@pytest.fixture
def start_embedded_worker(celery_app):
    """Start a worker in this process (thread pool); stopped (warm) after the test.

    Tasks see this process's settings and monkeypatches, and send email to the locmem
    outbox. Django connections of worker threads are closed after each task by Celery's
    Django fixup, so the test database can be flushed afterwards.
    """
    workers = []
    # Counts what this test publishes from here on, for wait_until_idle.
    ledger = pipeline.embedded_ledger = pipeline.TaskLedger().connect()

    def start(*, concurrency: int = 2):
        context = start_worker(
            celery_app,
            pool="threads",
            concurrency=concurrency,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=30,
        )
        workers.append(context)
        return context.__enter__()

    yield start
    for context in reversed(workers):
        context.__exit__(None, None, None)
    ledger.disconnect()
    pipeline.embedded_ledger = None


@pytest.fixture
def label_service(settings):
    """The fake label service, started, and the project configured to use it."""
    service = FakeLabelService().start()
    settings.LABEL_SERVICE = "http"
    settings.LABEL_SERVICE_URL = service.url
    settings.LABEL_SERVICE_API_KEY = LABEL_API_KEY
    settings.LABEL_SERVICE_TIMEOUT = LABEL_TIMEOUT
    yield service
    service.stop()


@pytest.fixture
def backoff_delays(monkeypatch):
    """Make retry delays tiny; the list records the retry numbers they were asked for."""
    import rma.tasks

    asked = []

    def tiny_backoff(retries, **kwargs):
        asked.append(retries)
        return TINY_BACKOFF

    monkeypatch.setattr(rma.tasks, "backoff_delay", tiny_backoff)
    return asked


@pytest.fixture
def sent_emails():
    """The emails sent so far (locmem outbox), parsed as a mail client would."""
    return lambda: [parse_email(message.message().as_bytes()) for message in mail.outbox]


@pytest.fixture
def order():
    """A delivered order of the default store with one returnable line (quantity 2)."""
    return OrderLineFactory(line_number=1, quantity=2).order

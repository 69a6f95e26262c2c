"""The database connection dies in the middle of a request: nothing half-written, nothing sent."""

import psycopg
import pytest
from django.db import OperationalError, connection

import rma.services.rma_request
from labels.models import ReturnLabel
from rma.models import Notification, Rma, RmaEvent, RmaLine, RmaStatus, WebhookDelivery

from .pipeline import QUEUE, database_url, request_return

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def terminate_backend(pid: int) -> None:
    """Kill a PostgreSQL backend from another connection, as a failover or an admin would."""
    with psycopg.connect(database_url(), autocommit=True) as admin:
        [[terminated]] = admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchall()
    assert terminated


def test_a_connection_lost_mid_request_writes_nothing_and_the_next_request_works(
    monkeypatch, celery_app, broker, order
):
    record_events = rma.services.rma_request.record_events
    killed = []

    def lose_connection_then_record(**kwargs):
        # The RMA and its lines are written by now, inside the request's transaction.
        if not killed:
            assert Rma.objects.count() == 1 and RmaLine.objects.count() == 1
            killed.append(connection.connection.info.backend_pid)
            terminate_backend(killed[0])
        return record_events(**kwargs)

    monkeypatch.setattr(rma.services.rma_request, "record_events", lose_connection_then_record)

    with pytest.raises(OperationalError):
        request_return(order)

    assert killed
    for model in (Rma, RmaLine, RmaEvent, Notification, WebhookDelivery, ReturnLabel):
        assert model.objects.count() == 0, model
    assert broker.llen(QUEUE) == 0  # no task was enqueued for the rolled-back request

    created = request_return(order)
    assert connection.connection.info.backend_pid != killed[0]
    assert created.status == RmaStatus.AUTHORIZED
    assert list(Rma.objects.all()) == [created]
    assert list(created.events.values_list("type", flat=True)) == ["rma.created", "rma.authorized"]
    assert broker.llen(QUEUE) == 1  # its label task (which enqueues the confirmation)

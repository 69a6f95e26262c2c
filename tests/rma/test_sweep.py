"""The sweeper: re-enqueues stale outbox rows, gives up on emails a day old."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from rma.models import ApiTransaction, Notification, NotificationStatus
from rma.tasks import purge_api_transactions, sweep
from tests.factories import RmaFactory, StoreFactory

pytestmark = pytest.mark.django_db


def pending_notification(key):
    rma = RmaFactory()
    return Notification.objects.create(
        rma=rma, rma_ids=[rma.pk], kind="cancelled", recipient="a@example.com", idempotency_key=key
    )


def test_an_email_pending_for_a_day_is_given_up_visibly(monkeypatch):
    sent = []
    monkeypatch.setattr(
        "rma.tasks.enqueue", lambda name, **kwargs: sent.append((name, kwargs)) or True
    )
    with time_machine.travel(timezone.now() - dt.timedelta(days=2)):
        ancient = pending_notification("ancient")
    with time_machine.travel(timezone.now() - dt.timedelta(hours=1)):
        stale = pending_notification("stale")
    counts = sweep()
    ancient.refresh_from_db()
    stale.refresh_from_db()
    assert ancient.status == NotificationStatus.FAILED
    assert "given up" in ancient.last_error
    assert stale.status == NotificationStatus.PENDING
    assert counts["abandoned"] == 1
    assert ("rma.send_notification", {"notification_id": stale.pk}) in sent
    assert ("rma.send_notification", {"notification_id": ancient.pk}) not in sent


def test_transaction_ids_are_forgotten_after_the_retention_period():
    store = StoreFactory()
    with time_machine.travel(timezone.now() - dt.timedelta(days=31)):
        ApiTransaction.objects.create(store=store, transaction_id="old", request_hash="x")
    with time_machine.travel(timezone.now() - dt.timedelta(days=8)):
        ApiTransaction.objects.create(store=store, transaction_id="week-old", request_hash="x")
    assert purge_api_transactions() == 1
    assert list(ApiTransaction.objects.values_list("transaction_id", flat=True)) == ["week-old"]

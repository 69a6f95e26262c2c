"""The same task delivered several times, run concurrently: one label, one email."""

import datetime as dt
import time

import pytest
from django.core.mail.backends.locmem import EmailBackend

import labels.services
from rma.models import Notification
from rma.queue import enqueue

from .label_server import Sleep
from .pipeline import (
    QUEUE,
    assert_issued_once,
    confirmation_sent,
    request_return,
    wait_for,
    wait_until_idle,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

COPIES = 3


@pytest.fixture
def slow_email(monkeypatch):
    """Sending takes a while, so duplicated sends overlap."""
    send_messages = EmailBackend.send_messages

    def slowly(self, messages):
        time.sleep(0.2)
        return send_messages(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", slowly)


@pytest.fixture
def short_label_claims(monkeypatch):
    """A worker's claim on a label lapses after 1.5 s (the slowest call here takes 0.3 s).

    A duplicate that finds the label claimed looks again when the claim lapses.
    """
    monkeypatch.setattr(labels.services, "claim_duration", lambda: dt.timedelta(seconds=1.5))


def test_duplicated_label_and_email_tasks_run_concurrently_do_everything_once(
    label_service,
    backoff_delays,
    short_label_claims,
    slow_email,
    broker,
    start_embedded_worker,
    sent_emails,
    order,
):
    # A slow service, so the duplicates arrive while the first call is in progress.
    label_service.then(Sleep(0.3))
    rma = request_return(order)
    notification = Notification.objects.get(rma=rma)
    for _ in range(COPIES - 1):
        assert enqueue("rma.issue_label", rma_id=rma.pk)
        assert enqueue("rma.send_notification", notification_id=notification.pk)
    assert broker.llen(QUEUE) == 2 * COPIES

    start_embedded_worker(concurrency=2 * COPIES)
    wait_for(lambda: confirmation_sent(rma), what="the confirmation email")
    wait_until_idle(broker)

    assert len(label_service.calls) == 1
    assert_issued_once(rma, sent_emails())

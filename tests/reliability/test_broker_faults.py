"""The broker is down when an RMA commits: the request succeeds, the sweeper catches up."""

import logging

import pytest

from rma.models import LabelStatus, Notification, NotificationStatus
from rma.tasks import sweep

from .pipeline import (
    QUEUE,
    UNREACHABLE_BROKER_URL,
    assert_issued_once,
    broker_at,
    confirmation_sent,
    request_return,
    wait_for,
    wait_until_idle,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

NOTHING_PENDING = {"labels": 0, "notifications": 0, "webhooks": 0, "abandoned": 0}


def test_a_request_committed_while_the_broker_is_down_is_delivered_once_by_the_sweeper(
    settings,
    caplog,
    celery_app,
    label_service,
    broker,
    start_embedded_worker,
    sent_emails,
    order,
):
    settings.SWEEPER_GRACE_SECONDS = 0
    caplog.set_level(logging.WARNING, logger="rma.queue")

    with broker_at(UNREACHABLE_BROKER_URL):
        rma = request_return(order)

    # The shopper's request succeeded (committed, not rolled back by the failed publish);
    # the work is recorded, not lost. (How long a refused publish may take is bounded by
    # CELERY_TASK_PUBLISH_RETRY_POLICY; `make bench` checks that budget, not this test.)
    assert rma.pk is not None
    rma.refresh_from_db()
    assert rma.label_status == LabelStatus.PENDING
    assert Notification.objects.get(rma=rma).status == NotificationStatus.PENDING
    assert broker.llen(QUEUE) == 0
    refused = [record.args[0] for record in caplog.records if record.name == "rma.queue"]
    assert refused == ["rma.issue_label"]  # the confirmation waits for its label task

    # The broker is back: a worker alone has nothing to do until the sweeper runs.
    start_embedded_worker()
    assert sweep() == {"labels": 1, "notifications": 1, "webhooks": 0, "abandoned": 0}
    wait_for(lambda: confirmation_sent(rma), what="the confirmation email")
    wait_until_idle(broker)

    assert len(label_service.calls) == 1
    assert_issued_once(rma, sent_emails())
    # Nothing is left for later sweeps to send again.
    assert sweep() == NOTHING_PENDING
    wait_until_idle(broker)
    assert len(label_service.calls) == 1
    assert len(sent_emails()) == 1

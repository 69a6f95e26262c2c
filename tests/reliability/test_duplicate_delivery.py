"""The same task delivered several times, run concurrently: one label, one email.

The copies of the label task run while the first copy's call to the label service is
still open (the service holds its answer until every other copy has found the claim),
so the overlap does not depend on how fast the machine is.
"""

import pytest

import rma.tasks
from rma.models import Notification
from rma.queue import enqueue

from .label_server import Hold
from .pipeline import (
    QUEUE,
    assert_issued_once,
    confirmation_sent,
    record_deferred_checks,
    request_return,
    wait_for,
    wait_until_idle,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

COPIES = 3


@pytest.fixture
def deferred_label_checks(monkeypatch):
    return record_deferred_checks(monkeypatch, rma.tasks)


def test_duplicated_label_and_email_tasks_run_concurrently_do_everything_once(
    label_service,
    backoff_delays,
    deferred_label_checks,
    broker,
    start_embedded_worker,
    sent_emails,
    order,
    settings,
):
    # The client waits longer than the test could ever hold the first call: only the
    # test's release ends it, never a timeout racing the copies.
    settings.LABEL_SERVICE_TIMEOUT = 300
    label_service.then(Hold())
    rma = request_return(order)
    notification = Notification.objects.get(rma=rma)
    for _ in range(COPIES - 1):
        assert enqueue("rma.issue_label", rma_id=rma.pk)
    # The request enqueued its label task only: the confirmation waits for the label.
    for _ in range(COPIES):
        assert enqueue("rma.send_notification", notification_id=notification.pk)
    assert broker.llen(QUEUE) == 2 * COPIES

    start_embedded_worker(concurrency=2 * COPIES)
    label_service.wait_for_calls(1)
    # Every other copy finds the first one's claim and steps aside, without a call.
    wait_for(lambda: len(deferred_label_checks) == COPIES - 1, what="the copies to find the claim")
    assert deferred_label_checks == [("rma.issue_label", {"rma_id": rma.pk})] * (COPIES - 1)
    label_service.release()
    wait_for(lambda: confirmation_sent(rma), what="the confirmation email")
    wait_until_idle(broker)

    # The copies look again, as they would once the claim lapsed: nothing is left to do.
    for task_name, kwargs in deferred_label_checks:
        assert enqueue(task_name, **kwargs)
    wait_until_idle(broker)

    assert len(label_service.calls) == 1
    assert_issued_once(rma, sent_emails())

"""Worker processes killed (SIGKILL) in the middle of issuing a label.

Tasks are acknowledged late. A whole worker that dies leaves its message in Redis as
delivered-but-unacknowledged; once the visibility timeout has passed, the next worker
to start restores it and runs it again. A prefork pool process that dies has its task
requeued at once by the worker (`task_reject_on_worker_lost`). Either way the task
finds the dead process's claim on the label, looks again when it lapses, and the label
is issued once and the confirmation sent once.
"""

import os
import signal

import pytest

from labels.models import ReturnLabel
from rma.models import LabelStatus

from .conftest import LABEL_API_KEY
from .label_server import Hold
from .pipeline import (
    QUEUE,
    assert_issued_once,
    assert_killed_holding_the_claim,
    confirmation_sent,
    emails_in,
    file_email_env,
    request_return,
    unacked_tasks,
    wait_for,
    wait_until_idle,
    wait_until_restorable,
    worker_processes,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# Seconds before Redis hands an unacknowledged message to another worker (2 h in production).
VISIBILITY_TIMEOUT = 2
# The workers' label service timeout (seconds): a held call outlasts the time the test
# takes to see it and kill its worker many times over. A dead worker's claim lapses
# 4 x this + 30 s after it was taken.
WORKER_LABEL_TIMEOUT = 3


@pytest.fixture
def worker_process(celery_app, label_service, email_dir, tmp_path):
    """Start `celery worker` processes on this test's database, broker and label service."""
    with worker_processes(
        log_dir=tmp_path,
        env={
            "LABEL_SERVICE": "http",
            "LABEL_SERVICE_URL": label_service.url,
            "LABEL_SERVICE_API_KEY": LABEL_API_KEY,
            "LABEL_SERVICE_TIMEOUT": str(WORKER_LABEL_TIMEOUT),
            **file_email_env(email_dir),
        },
    ) as start:
        yield start


def test_a_task_whose_worker_is_killed_is_redelivered_and_done_once(
    label_service, broker, worker_process, email_dir, order
):
    label_service.then(Hold())
    short_visibility = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
    first_worker = worker_process("first", env=short_visibility)
    rma = request_return(order)

    label_service.wait_for_calls(1, timeout=60)
    first_worker.kill()
    label_service.release()
    assert_killed_holding_the_claim(ReturnLabel.objects.get(rma=rma), LabelStatus.PENDING)
    # Not lost: Redis still holds the label task, delivered to a worker that is gone.
    assert broker.llen(QUEUE) == 0
    assert unacked_tasks(broker) == ["rma.issue_label"]

    # A worker starting after the visibility timeout restores the message and runs it.
    wait_until_restorable(broker, visibility_timeout=VISIBILITY_TIMEOUT)
    worker_process("second", env=short_visibility)
    wait_for(lambda: confirmation_sent(rma), timeout=90, what="the confirmation email")
    wait_until_idle(broker)

    assert len(label_service.calls) == 2
    assert_issued_once(rma, emails_in(email_dir))
    assert ReturnLabel.objects.get(rma=rma).attempts == 2


def test_a_task_whose_pool_process_is_killed_is_requeued_at_once_and_done_once(
    label_service, broker, worker_process, email_dir, order
):
    label_service.then(Hold())
    # The production visibility timeout (2 h): only the worker itself can requeue the task.
    worker = worker_process("prefork", pool="prefork")
    rma = request_return(order)

    label_service.wait_for_calls(1, timeout=60)
    [pool_process] = worker.pool_processes()
    os.kill(pool_process, signal.SIGKILL)
    label_service.release()
    assert_killed_holding_the_claim(ReturnLabel.objects.get(rma=rma), LabelStatus.PENDING)

    wait_for(lambda: confirmation_sent(rma), timeout=90, what="the confirmation email")
    wait_until_idle(broker)

    assert worker.process.poll() is None  # the worker lived on, with a new pool process
    assert worker.pool_processes() != [pool_process]
    assert len(label_service.calls) == 2
    assert_issued_once(rma, emails_in(email_dir))
    assert ReturnLabel.objects.get(rma=rma).attempts == 2

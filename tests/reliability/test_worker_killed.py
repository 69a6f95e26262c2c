"""A worker process killed (SIGKILL) in the middle of issuing a label.

The task is acknowledged late, so Redis keeps its message as delivered-but-unacked;
once the visibility timeout has passed, the next worker to start restores it and runs
it again. The label is issued once and the confirmation sent once.
"""

import json
import time

import pytest

from labels.models import ReturnLabel

from .conftest import LABEL_API_KEY, LABEL_TIMEOUT
from .label_server import Hold
from .pipeline import (
    QUEUE,
    UNACKED,
    WorkerProcess,
    assert_issued_once,
    confirmation_sent,
    emails_in,
    request_return,
    wait_for,
    wait_until_idle,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# Seconds before Redis hands an unacknowledged message to another worker (2 h in production).
VISIBILITY_TIMEOUT = 2


@pytest.fixture
def email_dir(tmp_path):
    directory = tmp_path / "emails"
    directory.mkdir()
    return directory


@pytest.fixture
def worker_process(celery_app, label_service, email_dir, tmp_path):
    """Start `celery worker` processes on this test's database, broker and label service."""
    workers = []

    def start(name: str) -> WorkerProcess:
        worker = WorkerProcess(
            name,
            log_dir=tmp_path,
            env={
                "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                "LABEL_SERVICE": "http",
                "LABEL_SERVICE_URL": label_service.url,
                "LABEL_SERVICE_API_KEY": LABEL_API_KEY,
                "LABEL_SERVICE_TIMEOUT": str(LABEL_TIMEOUT),
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(email_dir),
            },
        )
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()
        print(f"--- worker {worker.name} ---\n{worker.log()}")  # shown when the test fails


def unacked_tasks(broker) -> list[str]:
    """The task names of the messages Redis holds as delivered but not acknowledged."""
    return [json.loads(value)[0]["headers"]["task"] for value in broker.hgetall(UNACKED).values()]


def test_a_task_whose_worker_is_killed_is_redelivered_and_done_once(
    label_service, broker, worker_process, email_dir, order
):
    label_service.then(Hold())
    first_worker = worker_process("first")
    rma = request_return(order)

    [call] = label_service.wait_for_calls(1, timeout=60)
    first_worker.kill()
    label_service.release()
    # Not lost: Redis still holds the label task, delivered to a worker that is gone.
    assert broker.llen(QUEUE) == 0
    assert unacked_tasks(broker) == ["rma.issue_label"]

    # A worker starting after the visibility timeout restores the message and runs it.
    time.sleep(max(0.0, call.at + VISIBILITY_TIMEOUT + 0.3 - time.monotonic()))
    worker_process("second")
    wait_for(lambda: confirmation_sent(rma), timeout=90, what="the confirmation email")
    wait_until_idle(broker)

    assert len(label_service.calls) == 2
    assert_issued_once(rma, emails_in(email_dir))
    assert ReturnLabel.objects.get(rma=rma).attempts == 2

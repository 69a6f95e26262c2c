"""A worker process killed (SIGKILL) while a carrier sells the label.

The carrier (EasyPost's fake) completes the purchase but its answer never reaches the
worker, which is killed. The label task, acknowledged late, is redelivered to the next
worker once Redis's visibility timeout passes; it waits for the dead worker's claim to
lapse, then retrieves the shipment saved before buying, finds it bought and keeps that
label: one label bought, not two, and one confirmation carrying it.
"""

import pytest

from labels.models import ReturnLabel
from rma.models import LabelStatus
from tests.labels.fake_carrier import Hold
from tests.labels.fake_easypost import FakeEasyPost

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
# The carrier client's timeout (seconds); the claim of a dead worker lapses 4 x this + 30 s.
CARRIER_TIMEOUT = 3


@pytest.fixture
def easypost(settings):
    fake = FakeEasyPost().start()
    settings.LABEL_SERVICE = "easypost"
    settings.EASYPOST_API_KEY = fake.api_key
    settings.EASYPOST_API_BASE = fake.url
    settings.LABEL_SERVICE_TIMEOUT = CARRIER_TIMEOUT
    yield fake
    fake.stop()


@pytest.fixture
def worker_process(celery_app, easypost, email_dir, tmp_path):
    with worker_processes(
        log_dir=tmp_path,
        env={
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "LABEL_SERVICE": "easypost",
            "EASYPOST_API_KEY": easypost.api_key,
            "EASYPOST_API_BASE": easypost.url,
            "LABEL_SERVICE_TIMEOUT": str(CARRIER_TIMEOUT),
            **file_email_env(email_dir),
        },
    ) as start:
        yield start


def test_a_worker_killed_mid_purchase_leaves_one_label_bought(
    easypost, broker, worker_process, email_dir, order
):
    easypost.then("buy", Hold())
    first_worker = worker_process("first")
    rma = request_return(order)

    easypost.wait_for_calls("buy", 1, timeout=60)
    first_worker.kill()
    easypost.release()
    assert len(easypost.purchases) == 1  # the carrier sold it; the worker never heard
    # Killed holding its claim (not after giving up on its timeout), and the task not
    # lost: Redis holds it as delivered to a worker that is gone.
    assert_killed_holding_the_claim(ReturnLabel.objects.get(rma=rma), LabelStatus.PENDING)
    assert broker.llen(QUEUE) == 0
    assert unacked_tasks(broker) == ["rma.issue_label"]

    # A worker starting once the message is past the visibility timeout restores it.
    wait_until_restorable(broker, visibility_timeout=VISIBILITY_TIMEOUT)
    worker_process("second")
    wait_for(lambda: confirmation_sent(rma), timeout=150, what="the confirmation email")
    wait_until_idle(broker)

    assert len(easypost.purchases) == 1
    assert len(easypost.calls_to("buy")) == 1
    assert len(easypost.calls_to("create")) == 1
    assert easypost.calls_to("retrieve")  # the redelivered task looked at the saved shipment
    label = ReturnLabel.objects.get(rma=rma)
    assert label.status == LabelStatus.ISSUED
    assert label.tracking_number == easypost.shipments[label.shipment_id]["tracking_code"]
    assert_issued_once(rma, emails_in(email_dir))

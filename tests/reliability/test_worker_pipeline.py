"""The whole pipeline on a real Celery worker and Redis: request → label → confirmation."""

from io import BytesIO

import pytest
from pypdf import PdfReader

from rma.models import LabelStatus, RmaStatus

from .pipeline import (
    QUEUE,
    assert_issued_once,
    confirmation_sent,
    plain_text,
    request_return,
    wait_for,
    wait_until_idle,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_a_request_reaches_the_shopper_with_its_label_through_a_real_worker(
    settings, broker, start_embedded_worker, sent_emails, order
):
    settings.LABEL_SERVICE = "builtin"
    rma = request_return(order)

    # Committed and published, nothing run yet: the work waits in Redis for a worker.
    assert (rma.status, rma.label_status) == (RmaStatus.AUTHORIZED, LabelStatus.PENDING)
    # rma.issue_label; it enqueues rma.send_notification once the label is issued.
    assert broker.llen(QUEUE) == 1
    assert sent_emails() == []

    start_embedded_worker()
    wait_for(lambda: confirmation_sent(rma), what="the confirmation email")
    wait_until_idle(broker)

    pdf = assert_issued_once(rma, sent_emails())
    [page] = PdfReader(BytesIO(pdf)).pages
    assert float(page.mediabox.width) == pytest.approx(288, abs=0.5)  # 4 in
    assert float(page.mediabox.height) == pytest.approx(432, abs=0.5)  # 6 in
    assert rma.rma_number in page.extract_text()
    [message] = sent_emails()
    assert rma.rma_number in plain_text(message)

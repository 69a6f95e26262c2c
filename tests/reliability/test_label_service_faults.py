"""An unreliable external label service (`LABEL_SERVICE=http`), on a real worker and Redis.

5xx answers and timeouts are retried with backoff until the service recovers; a 4xx
answer is final at once; either way the shopper gets exactly one confirmation.
"""

from io import BytesIO

import pytest
from pypdf import PdfReader

from labels.models import ReturnLabel
from rma.models import LabelStatus, Rma, RmaEvent, RmaStatus
from rma.tasks import LABEL_MAX_RETRIES

from .conftest import LABEL_API_KEY
from .label_server import Answer, Hold
from .pipeline import (
    assert_confirmed_once,
    assert_issued_once,
    confirmation_sent,
    pdf_attachments,
    plain_text,
    request_return,
    wait_for,
    wait_until_idle,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

LABEL_TO_FOLLOW = "It will follow in a separate email"


def run_to_completion(order, broker, start_embedded_worker) -> Rma:
    start_embedded_worker()
    rma = request_return(order)
    wait_for(lambda: confirmation_sent(rma), what="the confirmation email")
    wait_until_idle(broker)
    rma.refresh_from_db()
    return rma


def test_server_errors_are_retried_with_backoff_until_the_label_is_issued_once(
    label_service, backoff_delays, broker, start_embedded_worker, sent_emails, order
):
    label_service.then(Answer(500), Answer(503))

    rma = run_to_completion(order, broker, start_embedded_worker)

    calls = label_service.calls
    assert [call.rma_number for call in calls] == [rma.rma_number] * 3
    assert {call.api_key for call in calls} == {LABEL_API_KEY}
    assert backoff_delays == [0, 1]
    pdf = assert_issued_once(rma, sent_emails())
    # The label the service issued on its third answer, attached as it came.
    assert f"RMA {rma.rma_number}" in PdfReader(BytesIO(pdf)).pages[0].extract_text()
    assert ReturnLabel.objects.get(rma=rma).attempts == 3


def test_timeouts_are_retried_and_the_late_answer_is_not_a_second_label(
    label_service, backoff_delays, broker, start_embedded_worker, sent_emails, order
):
    # The first call gets no answer until the test lets it go: the worker's read timeout
    # is the only thing that can end its wait.
    label_service.then(Hold())

    rma = run_to_completion(order, broker, start_embedded_worker)

    first, second = label_service.calls
    assert first.rma_number == second.rma_number == rma.rma_number
    # The label came from the retry while the first call was still unanswered: the
    # worker gave up waiting on its timeout, then retried.
    assert label_service.wait_for_answers(1) == [second]
    assert backoff_delays == [0]
    assert_issued_once(rma, sent_emails())
    # The slow first answer arrives after the retry's label: it must not replace it.
    label_service.release()
    label_service.wait_for_answers(2)
    wait_until_idle(broker)
    assert len(label_service.calls) == 2
    assert_issued_once(rma, sent_emails())


def test_a_refusal_is_final_at_once_and_the_confirmation_says_the_label_will_follow(
    label_service, backoff_delays, broker, start_embedded_worker, sent_emails, order
):
    label_service.then(Answer(400))

    rma = run_to_completion(order, broker, start_embedded_worker)

    assert len(label_service.calls) == 1
    assert backoff_delays == []
    assert_label_failed_and_confirmed_without_it(rma, sent_emails(), reason="HTTP 400")


def test_a_service_down_for_every_retry_fails_the_label_and_confirms_without_it(
    label_service, backoff_delays, broker, start_embedded_worker, sent_emails, order
):
    label_service.then(*[Answer(502)] * (LABEL_MAX_RETRIES + 1))

    rma = run_to_completion(order, broker, start_embedded_worker)

    assert len(label_service.calls) == LABEL_MAX_RETRIES + 1
    assert backoff_delays == list(range(LABEL_MAX_RETRIES))
    assert_label_failed_and_confirmed_without_it(rma, sent_emails(), reason="HTTP 502")


def assert_label_failed_and_confirmed_without_it(rma, emails, *, reason):
    assert (rma.status, rma.label_status) == (RmaStatus.AUTHORIZED, LabelStatus.FAILED)
    assert reason in rma.label_failure_reason
    # The agents' "label failed" queue.
    label_failed = Rma.objects.filter(status=RmaStatus.AUTHORIZED, label_status=LabelStatus.FAILED)
    assert list(label_failed) == [rma]
    assert list(ReturnLabel.objects.filter(rma=rma).values_list("status", flat=True)) == [
        LabelStatus.FAILED
    ]
    assert RmaEvent.objects.filter(rma=rma, type="rma.label_failed").count() == 1
    message = assert_confirmed_once(rma, emails)
    assert pdf_attachments(message) == []
    assert LABEL_TO_FOLLOW in plain_text(message)

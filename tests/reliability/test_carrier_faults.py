"""Carriers (EasyPost, Shippo) failing on a real worker and Redis: one label bought.

A carrier answering 500 to the purchase is retried with backoff until it answers 200;
when the carrier had in fact bought the label before its 500 (the answer was lost), the
retry finds that purchase on the shipment saved before buying and buys nothing more.
Either way one label, one `rma.label_issued` event and one confirmation.
"""

import pytest

from labels.models import ReturnLabel
from tests.labels.fake_carrier import Answer, AnswerAfter
from tests.labels.fake_easypost import FakeEasyPost
from tests.labels.fake_shippo import FakeShippo

from .pipeline import (
    assert_issued_once,
    confirmation_sent,
    request_return,
    wait_for,
    wait_until_idle,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["easypost", "shippo"])
def carrier(request, settings):
    """Each carrier's fake, started, and the project configured to buy labels there."""
    if request.param == "easypost":
        fake = FakeEasyPost().start()
        settings.EASYPOST_API_KEY = fake.api_key
        settings.EASYPOST_API_BASE = fake.url
    else:
        fake = FakeShippo().start()
        settings.SHIPPO_API_KEY = fake.api_key
        settings.SHIPPO_API_BASE = fake.url
    settings.LABEL_SERVICE = request.param
    settings.LABEL_SERVICE_TIMEOUT = 5
    yield fake
    fake.stop()


@pytest.mark.parametrize("fault", [Answer(500), AnswerAfter(500)], ids=["not-bought", "bought"])
def test_a_carrier_answering_500_then_200_sells_one_label(
    fault, carrier, backoff_delays, broker, start_embedded_worker, sent_emails, order
):
    carrier.then("buy", fault)
    start_embedded_worker()

    rma = request_return(order)
    wait_for(lambda: confirmation_sent(rma), what="the confirmation email")
    wait_until_idle(broker)

    assert backoff_delays == [0]  # one retry
    assert len(carrier.calls_to("create")) == 1  # the retry reused the saved shipment
    assert len(carrier.purchases) == 1
    assert len(carrier.calls_to("buy")) == (2 if isinstance(fault, Answer) else 1)
    pdf = assert_issued_once(rma, sent_emails())
    assert pdf.startswith(b"%PDF-")
    label = ReturnLabel.objects.get(rma=rma)
    assert (label.attempts, label.carrier) == (2, "FedEx")  # no policy: the cheapest rate

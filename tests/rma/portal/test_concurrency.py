"""Fifty shoppers race for the last returnable unit: exactly one RMA (PostgreSQL only)."""

import threading
from collections import Counter

import pytest
from django.db import connection

from rma.errors import RmaError
from rma.models import Rma, RmaLine, RmaStatus
from rma.selectors import held_quantities
from rma.services.actors import Actor
from rma.services.rma_request import RequestedLine, rma_request
from tests.factories import OrderLineFactory, RmaLineFactory

REQUESTS = 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_requests_for_the_last_unit_create_one_rma(settings):
    settings.LABEL_SERVICE = "none"
    line = OrderLineFactory(line_number=1, quantity=3)
    RmaLineFactory(
        rma__order=line.order, rma__status=RmaStatus.AUTHORIZED, order_line=line, quantity=2
    )
    order_pk = line.order.pk
    start = threading.Barrier(REQUESTS)
    outcomes = []
    outcomes_lock = threading.Lock()

    def shopper():
        from rma.models import Order

        try:
            order = Order.objects.select_related("store").get(pk=order_pk)
            start.wait(timeout=30)
            rma_request(
                order=order,
                lines=[RequestedLine(1, 1, "TOO_SMALL")],
                resolution="REFUND",
                actor=Actor.shopper(order.customer_email),
                channel="PORTAL",
            )
            outcome = "created"
        except RmaError as error:
            outcome = f"refused {error.code} {[item.code for item in error.items]}"
        except Exception as error:  # every other exception is a failure of the test
            outcome = f"error {type(error).__name__}: {error}"
        finally:
            connection.close()
        with outcomes_lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=shopper) for _ in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert Counter(outcomes) == {
        "created": 1,
        "refused RMA 1007 ['RMA 1007']": REQUESTS - 1,
    }
    assert Rma.objects.filter(order_id=order_pk).count() == 2
    assert held_quantities([line.pk]) == {line.pk: 3}
    assert RmaLine.objects.filter(order_line=line).count() == 2

"""Selectors fetch in a fixed number of queries and compute held quantities per SPEC 4 (1007)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rma.eligibility import evaluate_order
from rma.models import RmaStatus
from rma.selectors import order_for_eligibility, orders_matching_number
from tests.factories import (
    EligibilityOverrideFactory,
    OrderFactory,
    OrderLineFactory,
    RmaFactory,
    RmaLineFactory,
)

pytestmark = pytest.mark.django_db


def queries_to_evaluate(order) -> int:
    with CaptureQueriesContext(connection) as captured:
        fetched = order_for_eligibility(store=order.store, order_id=order.order_id)
        verdicts = evaluate_order(fetched, now=timezone.now())
    assert len(verdicts) == order.lines.count()
    return len(captured)


def make_order_with_lines(count):
    order = OrderFactory()
    for number in range(1, count + 1):
        line = OrderLineFactory(order=order, line_number=number)
        EligibilityOverrideFactory(order_line=line)
        RmaLineFactory(rma=RmaFactory(order=order), order_line=line, quantity=1)
    return order


def test_eligibility_selector_runs_the_same_queries_for_1_and_200_lines():
    assert queries_to_evaluate(make_order_with_lines(1)) == 3
    assert queries_to_evaluate(make_order_with_lines(200)) == 3


@pytest.mark.parametrize(
    ("status", "received", "held"),
    [
        (RmaStatus.REQUESTED, None, 2),
        (RmaStatus.AUTHORIZED, None, 2),
        (RmaStatus.RECEIVED, 1, 2),
        (RmaStatus.RESOLVED, 1, 1),
        (RmaStatus.RESOLVED, 0, 0),
        (RmaStatus.REJECTED, None, 0),
        (RmaStatus.CANCELLED, None, 0),
        (RmaStatus.EXPIRED, None, 0),
    ],
)
def test_held_quantity_by_rma_status(status, received, held):
    line = OrderLineFactory(quantity=3)
    rma = RmaFactory(order=line.order, status=status)
    RmaLineFactory(rma=rma, order_line=line, quantity=2, received_quantity=received)
    fetched = order_for_eligibility(store=line.order.store, order_id=line.order.order_id)
    [verdict] = evaluate_order(fetched, now=timezone.now())
    assert verdict.returnable_quantity == 3 - held


def test_order_number_lookup_is_trimmed_and_case_insensitive():
    order = OrderFactory(order_id="ab-123x")
    OrderFactory(order_id="AB-999")
    assert list(orders_matching_number("  AB-123X ")) == [order]

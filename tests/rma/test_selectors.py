"""Selectors fetch in a fixed number of queries and compute held quantities (rule 1007)."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rma.eligibility import evaluate_order
from rma.models import EligibilityOverride, RmaStatus
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
    # Warm up: SQLite probes its JSON support once per connection.
    queries_to_evaluate(make_order_with_lines(1))
    # The order with its store, then the lines with held quantities and overrides.
    assert queries_to_evaluate(make_order_with_lines(1)) == 2
    assert queries_to_evaluate(make_order_with_lines(200)) == 2


def override_fields(override) -> tuple:
    return tuple(getattr(override, field.attname) for field in EligibilityOverride._meta.fields)


def test_overrides_come_with_their_lines_as_stored_newest_first():
    line = OrderLineFactory(quantity=3, line_number=1)
    other = OrderLineFactory(order=line.order, line_number=2)
    RmaLineFactory(rma=RmaFactory(order=line.order), order_line=line, quantity=1)
    start = dt.datetime(2026, 11, 5, 12, 0, 0, 123456, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        older = EligibilityOverrideFactory(
            order_line=line, code="RMA 1006", expires_at=start + dt.timedelta(days=1)
        )
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        newer = EligibilityOverrideFactory(order_line=line, code="RMA 1019")

    fetched = order_for_eligibility(store=line.order.store, order_id=line.order.order_id)

    first, second = fetched.lines.all()
    assert first.all_overrides == [newer, older]
    stored = EligibilityOverride.objects.order_by("-created_at")
    assert [override_fields(o) for o in first.all_overrides] == [override_fields(o) for o in stored]
    assert first.all_overrides[1].expires_at == start + dt.timedelta(days=1)
    assert all(not o._state.adding for o in first.all_overrides)  # rows, not new objects
    assert first.held_quantity == 1  # not multiplied by the two overrides
    assert second.all_overrides == []
    assert other.pk == second.pk


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

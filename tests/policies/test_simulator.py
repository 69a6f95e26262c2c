"""The simulator over a generated history whose answers are worked out by hand."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from policies.simulator import simulate
from rma.models import Resolution, Rma, RmaStatus
from tests.factories import OrderFactory, OrderLineFactory, RmaFactory, RmaLineFactory, StoreFactory

pytestmark = pytest.mark.django_db

DELIVERED = dt.datetime(2026, 10, 1, 15, tzinfo=dt.UTC)
LIVE = {"return_window_days": 30, "return_fee": {"amount": "5.00"}}


def order_with_line(store, order_id, price, department):
    order = OrderFactory(
        store=store,
        order_id=order_id,
        placed_at=DELIVERED - dt.timedelta(days=3),
        shipped_at=DELIVERED - dt.timedelta(days=2),
        delivered_at=DELIVERED,
    )
    line = OrderLineFactory(
        order=order, line_number=1, unit_price=Decimal(price), quantity=1, department=department
    )
    return order, line


def returned(order, line, *, resolution, days_after_delivery, reason="TOO_SMALL"):
    rma = RmaFactory(order=order, resolution=resolution, status=RmaStatus.RESOLVED)
    RmaLineFactory(rma=rma, order_line=line, quantity=1, reason_code=reason)
    Rma.objects.filter(pk=rma.pk).update(
        created_at=DELIVERED + dt.timedelta(days=days_after_delivery)
    )
    return rma


@pytest.fixture
def store():
    """Ten one-line orders (four mugs, six apparel; five over $200) and three past RMAs:

    - R1: $250 apparel, refunded, asked 5 days after delivery;
    - R2: $50 mug, store credit, 5 days after delivery;
    - R3: $50 apparel, refunded, 40 days after delivery (outside a 30-day window).
    """
    store = StoreFactory(code="SIM", policy=LIVE)
    a = order_with_line(store, "A", "250.00", "Apparel")
    b = order_with_line(store, "B", "50.00", "Mugs")
    c = order_with_line(store, "C", "50.00", "Apparel")
    for number in range(3):
        order_with_line(store, f"M{number}", "50.00", "Mugs")
    for number in range(4):
        order_with_line(store, f"X{number}", "250.00", "Apparel")
    returned(*a, resolution=Resolution.REFUND, days_after_delivery=5)
    returned(*b, resolution=Resolution.STORE_CREDIT, days_after_delivery=5)
    returned(*c, resolution=Resolution.REFUND, days_after_delivery=40)
    return store


DRAFT = {
    **LIVE,
    "excluded_departments": ["Mugs"],
    "rules": [
        {
            "name": "Orders over $200: review",
            "when": [{"field": "order_total", "op": "gt", "value": "200"}],
            "then": [{"action": "require_review"}],
        },
        {"name": "Longer window", "when": [], "then": [{"action": "extend_window", "days": 15}]},
    ],
}


def test_live_policy_figures(store):
    live = simulate(store=store, draft=LIVE, label_cost=Decimal("8.00")).live
    assert (live.lines, live.lines_eligible) == (10, 10)
    assert (live.rmas, live.rmas_blocked, live.rmas_reviewed) == (3, 1, 0)  # R3 is late
    assert (live.labels, live.label_spend) == (2, Decimal("16.00"))
    assert live.refund_total == Decimal("245.00")  # R1: 250 less the $5 fee
    assert live.store_credit_total == Decimal("50.00")  # R2: the fee is waived for credit
    assert live.exchange_total == Decimal(0)
    assert live.fees_collected == Decimal("5.00")


def test_draft_beside_live(store):
    simulation = simulate(store=store, draft=DRAFT, label_cost=Decimal("8.00"))
    draft = simulation.draft
    assert (draft.lines, draft.lines_eligible) == (10, 6)  # the four mugs are excluded
    # R2 (a mug) is blocked; R3 fits the longer window; R1 is over $200: reviewed.
    assert (draft.rmas, draft.rmas_blocked, draft.rmas_reviewed) == (3, 1, 1)
    assert (draft.labels, draft.label_spend) == (2, Decimal("16.00"))
    assert draft.refund_total == Decimal("290.00")  # 245 + (50 - 5)
    assert draft.store_credit_total == Decimal(0)
    assert draft.fees_collected == Decimal("10.00")
    assert draft.rules_fired["Orders over $200: review"] == 5 + 1  # five lines, one RMA
    rows = {row["name"]: row for row in simulation.rows()}
    assert rows["lines_eligible"]["change"] == -4
    assert rows["refund_total"]["change"] == Decimal("45.00")


def test_keeping_cheap_items_saves_labels_and_fees(store):
    draft = simulate(
        store=store, draft={**LIVE, "keep_item_below": "60"}, label_cost=Decimal("8.00")
    ).draft
    # R2 ($50) is kept: no label, credit as before; R1 ships; R3 is still late.
    assert (draft.labels, draft.label_spend, draft.fees_collected) == (1, Decimal("8.00"), 5)
    assert draft.store_credit_total == Decimal("50.00")


def test_rule_fee_and_keep_actions_change_the_money(store):
    draft = {
        **LIVE,
        "rules": [
            {
                "name": "Waive over $200",
                "when": [{"field": "line_amount", "op": "gt", "value": "200"}],
                "then": [{"action": "waive_return_fee"}],
            },
            {
                "name": "Keep mugs",
                "when": [{"field": "department", "op": "in", "value": ["Mugs"]}],
                "then": [{"action": "keep_item"}],
            },
        ],
    }
    result = simulate(store=store, draft=draft, label_cost=Decimal("8.00")).draft
    assert result.refund_total == Decimal("250.00")
    assert (result.fees_collected, result.labels) == (0, 1)


def test_queries_do_not_grow_with_the_history(store):
    with CaptureQueriesContext(connection) as small:
        simulate(store=store, draft=DRAFT)
    for number in range(20):
        order, line = order_with_line(store, f"Y{number}", "70.00", "Apparel")
        returned(order, line, resolution=Resolution.REFUND, days_after_delivery=3)
    with CaptureQueriesContext(connection) as large:
        simulate(store=store, draft=DRAFT)
    assert len(large) == len(small)

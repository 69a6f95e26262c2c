"""The simulator's fee, keep and route figures come from the functions the request service uses:
the RMAs a live request makes are counted alike (labels, fees, money back)."""

import datetime as dt
from decimal import Decimal

import pytest

from policies.simulator import simulate
from rma.estimates import rma_estimates
from rma.models import LabelStatus, Resolution, RmaStatus
from rma.selectors import rmas_with_lines
from rma.services.actors import Actor
from rma.services.rma_request import RequestedLine, rma_request
from tests.factories import (
    OrderFactory,
    OrderLineFactory,
    RmaFactory,
    RmaLineFactory,
    StoreFactory,
    SupplierFactory,
)

pytestmark = pytest.mark.django_db

FEE = {"amount": "5.00", "waived_for_resolutions": [], "waived_when_seller_fault": True}
LIVE = {"return_fee": FEE}


def rule(name, when, *then):
    return {"name": name, "when": when, "then": list(then)}


def department(name):
    return [{"field": "department", "op": "in", "value": [name]}]


SHOES_TO_ACME = rule(
    "Shoes to Acme", department("Shoes"), {"action": "route", "destination": "ACME"}
)
KEEP_MUGS = rule("Mugs: keep", department("Mugs"), {"action": "keep_item"})
SHOES_FEE = rule("Shoes: $10", department("Shoes"), {"action": "set_return_fee", "amount": "10"})
VIP_NO_FEE = rule(
    "VIP: no fee",
    [{"field": "customer_tag", "op": "in", "value": ["vip"]}],
    {"action": "waive_return_fee"},
)


def store_with_order(policy, tags=()):
    store = StoreFactory(policy=policy)
    SupplierFactory(store=store, code="ACME")
    order = OrderFactory(store=store, customer_tags=list(tags))
    for number, (dept, price) in enumerate(
        [("Apparel", "30.00"), ("Mugs", "20.00"), ("Shoes", "40.00")], start=1
    ):
        OrderLineFactory(
            order=order, line_number=number, quantity=1, unit_price=Decimal(price), department=dept
        )
    return store, order


def past_rma(order, *numbers, resolution=Resolution.REFUND):
    """An RMA of these lines requested yesterday (as before any rule)."""
    rma = RmaFactory(order=order, resolution=resolution, status=RmaStatus.RESOLVED)
    for line in order.lines.filter(line_number__in=numbers):
        RmaLineFactory(rma=rma, order_line=line, quantity=1)
    type(rma).objects.filter(pk=rma.pk).update(created_at=order.delivered_at + dt.timedelta(days=1))
    return rma


def test_a_route_splits_a_past_rma_into_two_shipments_each_with_its_fee():
    store, order = store_with_order(LIVE)
    past_rma(order, 1, 3)

    result = simulate(store=store, draft={**LIVE, "rules": [SHOES_TO_ACME]})

    assert (result.live.labels, result.live.fees_collected) == (1, Decimal("5.00"))
    assert (result.draft.labels, result.draft.fees_collected) == (2, Decimal("10.00"))
    assert result.draft.refund_total == Decimal("60.00")
    assert result.draft.rules_fired["Shoes to Acme"] == 1 + 1  # the line, the RMA


def test_a_route_to_where_the_line_goes_anyway_changes_nothing():
    store, order = store_with_order(LIVE)
    past_rma(order, 1, 3)
    home = rule("Home", [], {"action": "route", "destination": "STORE"})

    result = simulate(store=store, draft={**LIVE, "rules": [home]})

    assert (result.draft.labels, result.draft.fees_collected) == (1, Decimal("5.00"))


def test_keep_rules_spare_the_label_but_never_for_an_exchange():
    store, order = store_with_order({**LIVE, "resolutions": ["REFUND", "EXCHANGE"]})
    past_rma(order, 2)
    past_rma(order, 2, resolution=Resolution.EXCHANGE)

    draft = simulate(store=store, draft={**LIVE, "rules": [KEEP_MUGS]}).draft

    assert draft.labels == 1  # the exchange still ships
    assert draft.refund_total == Decimal("20.00")  # kept: no fee


def test_the_customers_tags_feed_the_simulated_rules():
    store, order = store_with_order(LIVE, tags=["VIP"])
    past_rma(order, 1)

    draft = simulate(store=store, draft={**LIVE, "rules": [VIP_NO_FEE]}).draft

    assert (draft.fees_collected, draft.refund_total) == (0, Decimal("30.00"))


def test_the_rmas_a_live_request_makes_are_counted_as_live():
    policy = {**LIVE, "rules": [SHOES_TO_ACME, KEEP_MUGS, SHOES_FEE]}
    store, order = store_with_order(policy)
    rmas = rma_request(
        order=order,
        lines=[RequestedLine(number, 1, "TOO_SMALL") for number in (1, 2, 3)],
        resolution="REFUND",
        actor=Actor.shopper(order.customer_email),
        channel="PORTAL",
    )
    rmas = list(rmas_with_lines().filter(pk__in=[rma.pk for rma in rmas]))
    estimates = rma_estimates(rmas)
    shipped = [rma for rma in rmas if rma.label_status != LabelStatus.NOT_REQUIRED]

    live = simulate(store=store, draft=policy).live

    assert (len(rmas), len(shipped)) == (3, 2)  # kept mug, warehouse, Acme
    assert live.labels == len(shipped)
    assert live.fees_collected == sum(e.return_fee for e in estimates.values())  # 5 + 10
    assert live.refund_total == sum(e.total for e in estimates.values())

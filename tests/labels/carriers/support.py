"""Helpers for the carrier tests: RMAs with a store label policy, issued labels."""

from __future__ import annotations

from labels.models import ReturnLabel
from labels.services import label_issue
from rma.models import Rma
from rma.selectors import rmas_with_lines
from tests.factories import (
    OrderFactory,
    OrderLineFactory,
    RmaFactory,
    RmaLineFactory,
    StoreFactory,
)

# USPS and UPS only, at most 15.00: FedEx, the cheapest, is never bought.
LABEL_POLICY = {"carriers": ["USPS", "UPS"], "services": [], "max_rate": "15.00"}
EASYPOST_WEBHOOK_SECRET = "whsec-easypost-test"
SHIPPO_WEBHOOK_TOKEN = "shippo-hook-token-test"


def carrier_rma(*, label_policy: dict | None = None, **rma_fields) -> Rma:
    """AUTHORIZED, label PENDING, one unit of 1.2 lb, 16x12x2 in; the store's label policy."""
    store = StoreFactory(policy={"label": dict(label_policy or LABEL_POLICY)})
    rma = RmaFactory(order__store=store, **rma_fields)
    RmaLineFactory(rma=rma, order_line=OrderLineFactory(order=rma.order), quantity=1)
    return rmas_with_lines().get(pk=rma.pk)


def issued_rma(**fields) -> tuple[Rma, ReturnLabel]:
    rma = carrier_rma(**fields)
    label = label_issue(rma_id=rma.pk)
    rma.refresh_from_db()
    return rma, label


def carrier_order(*, label_policy: dict | None = None):
    """A delivered order whose line 1 (quantity 2) can be returned; the store's label policy."""
    store = StoreFactory(policy={"label": dict(label_policy or LABEL_POLICY)})
    order = OrderFactory(store=store)
    OrderLineFactory(order=order, line_number=1, quantity=2)
    return order

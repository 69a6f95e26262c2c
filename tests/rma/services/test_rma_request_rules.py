"""Store rules that change money and routing, applied by the request service (every channel):
set or waive the return fee, keep the item, route to a destination; the decisions kept on the
RMA so the estimates shown later and the resolution apply the same ones."""

from decimal import Decimal

import pytest
from django.utils import timezone

from rma.eligibility import evaluate_order
from rma.estimates import rma_estimates
from rma.models import LabelStatus, Rma, RmaStatus
from rma.portal.estimate import order_estimate
from rma.selectors import order_for_eligibility, rmas_with_lines
from rma.services.actors import Actor
from rma.services.rma_receive import ReceivedLine, rma_receive
from rma.services.rma_request import RequestedLine, rma_request
from rma.services.rma_resolve import LineResolution, rma_resolve
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory, SupplierFactory

pytestmark = pytest.mark.django_db

FEE = {"amount": "4.95", "waived_for_resolutions": [], "waived_when_seller_fault": True}
REASONS = [
    {"code": "TOO_SMALL", "description": "Too small"},
    {"code": "CHANGED_MIND", "description": "Changed my mind"},
    {"code": "BROKEN", "description": "Broken", "requires_review": True},
]


def rule(name, when, *then):
    return {"name": name, "when": when, "then": list(then)}


def department(name):
    return [{"field": "department", "op": "in", "value": [name]}]


VIP_NO_FEE = rule(
    "VIP: no fee",
    [{"field": "customer_tag", "op": "in", "value": ["vip"]}],
    {"action": "waive_return_fee"},
)
SHOES_FEE = rule(
    "Shoes: $10 fee", department("Shoes"), {"action": "set_return_fee", "amount": "10"}
)
KEEP_MUGS = rule("Mugs: keep", department("Mugs"), {"action": "keep_item"})
SHOES_TO_ACME = rule(
    "Shoes to Acme", department("Shoes"), {"action": "route", "destination": "ACME"}
)


def make_order(*rules, tags=(), **policy):
    store = StoreFactory(
        policy={"return_fee": FEE, "reasons": REASONS, "rules": list(rules), **policy}
    )
    SupplierFactory(store=store, code="ACME")
    order = OrderFactory(store=store, customer_tags=list(tags))
    for number, (dept, price) in enumerate(
        [("Apparel", "30.00"), ("Mugs", "20.00"), ("Shoes", "40.00")], start=1
    ):
        OrderLineFactory(
            order=order,
            line_number=number,
            quantity=1,
            unit_price=Decimal(price),
            department=dept,
        )
    return order


ACTORS = {
    "PORTAL": lambda order: Actor.shopper(order.customer_email),
    "API": lambda order: Actor.system("api"),
    "AGENT": lambda order: Actor.system("agent"),
}


def request(order, *numbers, channel="PORTAL", reason="TOO_SMALL", resolution="REFUND"):
    rmas = rma_request(
        order=order,
        lines=[RequestedLine(number, 1, reason) for number in numbers],
        resolution=resolution,
        actor=ACTORS[channel](order),
        channel=channel,
    )
    return list(rmas_with_lines().filter(pk__in=[rma.pk for rma in rmas]).order_by("pk"))


def page_estimate(order, *numbers, reason="TOO_SMALL", resolution="REFUND"):
    """What the order page shows before submit for these lines (as the form posts them)."""
    fresh = order_for_eligibility(store=order.store, order_id=order.order_id)
    verdicts = evaluate_order(fresh, now=timezone.now(), channel="PORTAL")
    data = {"resolution": resolution}
    for number in numbers:
        data |= {
            f"line-{number}-selected": "on",
            f"line-{number}-quantity": "1",
            f"line-{number}-reason": reason,
        }
    return order_estimate(order=fresh, verdicts=verdicts, data=data)


def created_event(rma):
    return rma.events.get(type="rma.created").data


# --- The three actions, through the one request service, on each channel ------------------


@pytest.mark.parametrize("channel", ["PORTAL", "API", "AGENT"])
def test_fee_rules_set_and_waive_the_rmas_return_fee(channel):
    order = make_order(VIP_NO_FEE, SHOES_FEE, tags=["VIP"])
    # Line 3 (shoes) matches both rules: the first in the list (waive) wins.
    (rma,) = request(order, 1, 3, channel=channel)

    assert rma.rule_decisions == [
        {"line_number": 1, "action": "waive_return_fee", "rule": "VIP: no fee", "amount": "0.00"}
    ]
    estimate = rma_estimates([rma])[rma.pk]
    assert (estimate.return_fee, estimate.total) == (Decimal("0.00"), Decimal("70.00"))
    assert created_event(rma)["rule_decisions"] == rma.rule_decisions

    plain = make_order(VIP_NO_FEE, SHOES_FEE)  # no tag: the shoes rule sets the fee
    (rma,) = request(plain, 1, 3, channel=channel)
    assert rma.rule_decisions == [
        {"line_number": 3, "action": "set_return_fee", "rule": "Shoes: $10 fee", "amount": "10.00"}
    ]
    estimate = rma_estimates([rma])[rma.pk]
    assert (estimate.return_fee, estimate.total) == (Decimal("10.00"), Decimal("60.00"))


@pytest.mark.parametrize("channel", ["PORTAL", "API", "AGENT"])
def test_keep_rule_resolves_the_line_at_authorization_without_a_label(channel):
    order = make_order(KEEP_MUGS)
    kept, sent = request(order, 1, 2, channel=channel)

    assert [line.order_line.line_number for line in kept.lines.all()] == [2]
    assert (kept.status, kept.label_status) == (RmaStatus.RESOLVED, LabelStatus.NOT_REQUIRED)
    assert kept.received_at is None
    assert [line.refund_amount for line in kept.lines.all()] == [Decimal("20.00")]
    assert kept.rule_decisions == [{"line_number": 2, "action": "keep_item", "rule": "Mugs: keep"}]
    resolved = kept.events.get(type="rma.resolved").data
    assert resolved["kept"] is True and resolved["return_fee"] == "0.00"
    # The line sent back ships alone, with the policy's fee; no rule shaped it.
    assert [line.order_line.line_number for line in sent.lines.all()] == [1]
    assert (sent.status, sent.rule_decisions) == (RmaStatus.AUTHORIZED, [])
    estimates = rma_estimates([kept, sent])
    assert estimates[kept.pk].all_kept and estimates[kept.pk].total == Decimal("20.00")
    assert estimates[sent.pk].total == Decimal("25.05")
    created = created_event(kept)
    assert created["rule_decisions"] == kept.rule_decisions
    assert created["rules"] == [{"line_number": 2, "decisions": ["item kept (Mugs: keep)"]}]


@pytest.mark.parametrize("channel", ["PORTAL", "API", "AGENT"])
def test_route_rule_sends_the_line_to_the_destinations_rma(channel):
    order = make_order(SHOES_TO_ACME)
    warehouse, acme = request(order, 1, 3, channel=channel)

    assert warehouse.supplier is None
    assert [line.order_line.line_number for line in warehouse.lines.all()] == [1]
    assert acme.supplier.code == "ACME"
    assert [line.order_line.line_number for line in acme.lines.all()] == [3]
    assert acme.rule_decisions == [
        {"line_number": 3, "action": "route", "rule": "Shoes to Acme", "destination": "ACME"}
    ]
    assert warehouse.rule_decisions == []
    assert created_event(acme)["rule_decisions"] == acme.rule_decisions
    # One return fee per RMA, as each is shipped on its own.
    assert [rma_estimates([rma])[rma.pk].return_fee for rma in (warehouse, acme)] == [
        Decimal("4.95"),
        Decimal("4.95"),
    ]


def test_route_to_the_store_brings_a_dropship_line_to_the_warehouse():
    order = make_order(rule("All home", [], {"action": "route", "destination": "STORE"}))
    supplier = SupplierFactory(store=order.store, code="FARAWAY")
    order.lines.filter(line_number=3).update(supplier=supplier)

    (rma,) = request(order, 1, 3)

    assert rma.supplier is None
    assert [record["action"] for record in rma.rule_decisions] == ["route", "route"]


def test_a_route_to_a_supplier_the_store_no_longer_has_leaves_the_line_where_it_goes():
    order = make_order(SHOES_TO_ACME)
    order.store.suppliers.filter(code="ACME").delete()

    (rma,) = request(order, 1, 3)

    assert rma.supplier is None and rma.rule_decisions == []


# --- Keep, review and counters --------------------------------------------------------------


def test_a_line_that_needs_review_is_not_kept_and_stays_so_in_later_estimates():
    order = make_order(KEEP_MUGS, keep_item_below="25.00")
    (rma,) = request(order, 2, reason="BROKEN")

    assert (rma.status, rma.label_status) == (RmaStatus.REQUESTED, LabelStatus.PENDING)
    assert rma.rule_decisions == []
    estimate = rma_estimates([rma])[rma.pk]
    assert not estimate.all_kept and estimate.return_fee == Decimal("4.95")


def test_a_review_rule_keeps_a_cheap_line_from_being_kept_before_and_after_request():
    review_mugs = rule("Mugs: review", department("Mugs"), {"action": "require_review"})
    order = make_order(review_mugs, keep_item_below="25.00")
    before = page_estimate(order, 2)
    (rma,) = request(order, 2)

    assert rma.status == RmaStatus.REQUESTED
    assert rma.rule_decisions == [
        {"line_number": 2, "action": "require_review", "rule": "Mugs: review"}
    ]
    after = rma_estimates([rma])[rma.pk]
    assert not before["all_kept"] and not after.all_kept
    assert before["total"] == after.total == Decimal("15.05")


def test_keep_is_not_applied_to_an_exchange():
    order = make_order(KEEP_MUGS, resolutions=["REFUND", "REPAIR"])
    (rma,) = request(order, 2, resolution="REPAIR")

    assert rma.status == RmaStatus.AUTHORIZED and rma.rule_decisions == []


def test_goods_taken_at_a_counter_are_not_kept_but_pay_the_rules_fee():
    order = make_order(KEEP_MUGS, SHOES_FEE)
    (rma,) = rma_request(
        order=order,
        lines=[RequestedLine(2, 1, "TOO_SMALL"), RequestedLine(3, 1, "TOO_SMALL")],
        resolution="REFUND",
        actor=Actor.system("counter"),
        channel="AGENT",
        items_received=True,
    )
    rma.refresh_from_db()
    assert rma.status == RmaStatus.RECEIVED
    assert [record["action"] for record in rma.rule_decisions] == ["set_return_fee"]
    assert rma_estimates([rma])[rma.pk].return_fee == Decimal("10.00")


# --- One estimate: the order page, the RMA afterwards, the resolution -----------------------


def receive_and_resolve(rma):
    lines = list(rma.lines.all())
    rma_receive(
        rma=rma,
        actor=Actor.system("warehouse"),
        lines=[ReceivedLine(line.pk, line.quantity, "AS_NEW", "RESTOCK") for line in lines],
    )
    return rma_resolve(
        rma=Rma.objects.get(pk=rma.pk),
        actor=Actor.system("agent"),
        lines=[LineResolution(line.pk, "REFUND") for line in lines],
    )


def test_the_rules_fee_agrees_before_the_request_after_it_and_at_resolution():
    # A rule on the reason: the order page must decide with the reason chosen.
    changed_mind = rule(
        "Changed mind: $7.50",
        [{"field": "reason", "op": "in", "value": ["CHANGED_MIND"]}],
        {"action": "set_return_fee", "amount": "7.50"},
    )
    order = make_order(changed_mind)
    before = page_estimate(order, 1, 3, reason="CHANGED_MIND")
    assert (before["return_fee"], before["total"]) == (Decimal("7.50"), Decimal("62.50"))
    assert page_estimate(order, 1, 3)["return_fee"] == Decimal("4.95")  # another reason

    (rma,) = request(order, 1, 3, reason="CHANGED_MIND")
    # The store drops the rule afterwards: what the request applied still holds.
    order.store.policy = {**order.store.policy, "rules": []}
    order.store.save()
    rma = rmas_with_lines().get(pk=rma.pk)
    after = rma_estimates([rma])[rma.pk]
    assert (after.return_fee, after.total) == (before["return_fee"], before["total"])

    resolved = receive_and_resolve(rma)
    data = resolved.events.get(type="rma.resolved").data
    assert (data["return_fee"], data["refund_total"]) == ("7.50", "62.50")


def test_the_keep_rule_agrees_on_the_order_page_and_in_the_request():
    order = make_order(KEEP_MUGS)
    before = page_estimate(order, 1, 2)
    assert before["rma_count"] == 2 and before["any_kept"] and not before["all_kept"]
    assert before["total"] == Decimal("45.05")  # 20 kept (no fee) + 30 less the 4.95 fee

    rmas = request(order, 1, 2)
    estimates = rma_estimates(rmas)
    assert len(rmas) == before["rma_count"]
    assert sum(estimate.total for estimate in estimates.values()) == before["total"]
    kept = next(rma for rma in rmas if rma.status == RmaStatus.RESOLVED)
    assert sum(line.refund_amount for line in kept.lines.all()) == Decimal("20.00")


def test_a_waived_fee_is_not_charged_at_resolution_and_a_set_fee_is_capped():
    order = make_order(VIP_NO_FEE, tags=["vip"])
    (rma,) = request(order, 1)
    data = receive_and_resolve(rma).events.get(type="rma.resolved").data
    assert (data["return_fee"], data["refund_total"]) == ("0.00", "30.00")

    costly = make_order(rule("Dear", [], {"action": "set_return_fee", "amount": "100"}))
    (rma,) = request(costly, 1)
    assert rma_estimates([rma])[rma.pk].total == Decimal("0.00")  # never a charge
    data = receive_and_resolve(rma).events.get(type="rma.resolved").data
    assert (data["return_fee"], data["refund_total"]) == ("30.00", "0.00")


def test_without_rules_nothing_is_stored_and_the_event_has_no_decisions():
    order = make_order()
    (rma,) = request(order, 1)
    assert rma.rule_decisions == []
    assert "rule_decisions" not in created_event(rma)

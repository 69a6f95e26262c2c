"""Resolving a received return: outcomes, refund and restocking computations, the event."""

import re
from decimal import Decimal

import pytest

from rma.errors import RequestError, TransitionError
from rma.models import Notification, RmaEvent, RmaLine, RmaStatus, WebhookDelivery
from rma.services.actors import Actor
from rma.services.rma_resolve import LineResolution, refund_breakdown, rma_resolve
from tests.factories import (
    OrderLineFactory,
    RmaFactory,
    RmaLineFactory,
    StoreFactory,
    UserFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return Actor.agent(UserFactory(username="resolver"))


def received_rma(*lines, fee_percent="15", status=RmaStatus.RECEIVED):
    """A RECEIVED RMA; each line is (unit_price, requested, received, reason_code)."""
    store = StoreFactory(policy={"restocking_fee_percent": fee_percent})
    WebhookEndpointFactory(store=store, events=["rma.resolved"])
    rma = RmaFactory(order__store=store, status=status)
    for number, (price, requested, received, reason) in enumerate(lines, start=1):
        order_line = OrderLineFactory(
            order=rma.order, line_number=number, quantity=requested, unit_price=Decimal(price)
        )
        RmaLineFactory(
            rma=rma,
            order_line=order_line,
            quantity=requested,
            received_quantity=received,
            condition="AS_NEW",
            disposition="RESTOCK",
            reason_code=reason,
        )
    return rma


def line_ids(rma):
    return list(rma.lines.order_by("order_line__line_number").values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("price", "received", "percent", "seller_fault", "fee", "net"),
    [
        ("39.99", 2, "15", False, "12.00", "67.98"),  # 11.997 rounds up
        ("39.99", 2, "15", True, "0.00", "79.98"),  # seller fault: no fee
        ("39.99", 1, "10", False, "4.00", "35.99"),  # short receipt: 3.999
        ("0.10", 1, "25", False, "0.03", "0.07"),  # 0.025: half up, not half even
        ("0.30", 1, "25", False, "0.08", "0.22"),  # 0.075: half up
        ("10.00", 1, "12.5", False, "1.25", "8.75"),  # fractional percent
        ("19.99", 3, "0", False, "0.00", "59.97"),  # no fee configured
        ("19.99", 0, "15", False, "0.00", "0.00"),  # nothing arrived
    ],
)
def test_refund_breakdown(price, received, percent, seller_fault, fee, net):
    breakdown = refund_breakdown(
        unit_price=Decimal(price),
        received_quantity=received,
        fee_percent=Decimal(percent),
        seller_fault=seller_fault,
    )
    assert breakdown.restocking_fee == Decimal(fee)
    assert breakdown.net == Decimal(net)
    assert breakdown.gross == breakdown.net + breakdown.restocking_fee
    assert str(breakdown.net) == net, "amounts keep exactly two decimal places"


@pytest.mark.parametrize(
    ("reason", "fee", "refund"),
    [
        ("TOO_SMALL", "12.00", "67.98"),
        ("DEFECTIVE", "0.00", "79.98"),  # a seller-fault reason of the default list
        ("WRONG_ITEM", "0.00", "79.98"),
        ("NO_LONGER_IN_POLICY", "12.00", "67.98"),  # unknown: not the seller's fault
    ],
)
def test_refund_is_received_value_less_fee_unless_seller_fault(
    actor, reason, fee, refund, django_capture_on_commit_callbacks
):
    rma = received_rma(("39.99", 2, 2, reason))
    [line_id] = line_ids(rma)
    with django_capture_on_commit_callbacks() as callbacks:
        rma_resolve(rma=rma, actor=actor, lines=[LineResolution(line_id, "REFUND")])
    assert rma.status == RmaStatus.RESOLVED
    assert rma.resolved_at is not None
    line = RmaLine.objects.get(pk=line_id)
    assert (line.outcome, line.refund_amount, line.restocking_fee) == (
        "REFUND",
        Decimal(refund),
        Decimal(fee),
    )
    assert line.store_credit_amount is None
    event = RmaEvent.objects.get(rma=rma)
    assert event.type == "rma.resolved"
    assert event.data["refund_total"] == refund
    assert event.data["lines"][0]["refund_amount"] == refund
    assert event.data["lines"][0]["restocking_fee"] == fee
    assert Notification.objects.get(rma=rma).kind == "resolved"
    assert len(callbacks) == 2


def test_resolved_webhook_carries_every_line_outcome_and_amount(actor):
    rma = received_rma(
        ("39.99", 2, 1, "TOO_SMALL"),
        ("20.00", 1, 1, "DEFECTIVE"),
        ("5.00", 1, 1, "TOO_SMALL"),
        ("7.50", 1, 1, "TOO_SMALL"),
    )
    first, second, third, fourth = line_ids(rma)
    rma_resolve(
        rma=rma,
        actor=actor,
        lines=[
            LineResolution(first, "REFUND"),
            LineResolution(second, "STORE_CREDIT", store_credit_code="GIFT-1"),
            LineResolution(third, "EXCHANGE", replacement_item_id=" SKU-BIGGER "),
            LineResolution(fourth, "REPAIR"),
        ],
    )
    payload = WebhookDelivery.objects.get(rma=rma, event="rma.resolved").payload
    assert payload["status"] == "RESOLVED"
    data = payload["data"]
    assert (data["currency"], data["refund_total"], data["store_credit_total"]) == (
        "USD",
        "33.99",
        "20.00",
    )
    assert [
        (
            line["line_number"],
            line["outcome"],
            line["refund_amount"],
            line["store_credit_amount"],
            line["store_credit_code"],
            line["replacement_item_id"],
        )
        for line in data["lines"]
    ] == [
        (1, "REFUND", "33.99", None, "", ""),  # 39.99 less 15 % (5.9985 -> 6.00)
        (2, "STORE_CREDIT", None, "20.00", "GIFT-1", ""),
        (3, "EXCHANGE", None, None, "", "SKU-BIGGER"),
        (4, "REPAIR", None, None, "", ""),
    ]


def test_store_credit_gets_one_generated_readable_code_per_rma(actor):
    rma = received_rma(("39.99", 2, 2, "TOO_SMALL"), ("10.00", 1, 1, "DEFECTIVE"))
    first, second = line_ids(rma)
    rma_resolve(
        rma=rma,
        actor=actor,
        lines=[LineResolution(first, "STORE_CREDIT"), LineResolution(second, "STORE_CREDIT")],
    )
    lines = list(RmaLine.objects.filter(rma=rma).order_by("order_line__line_number"))
    assert [line.store_credit_amount for line in lines] == [Decimal("67.98"), Decimal("10.00")]
    assert [line.restocking_fee for line in lines] == [Decimal("12.00"), Decimal("0.00")]
    codes = {line.store_credit_code for line in lines}
    assert len(codes) == 1
    assert re.fullmatch(r"SC-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", codes.pop())

    other = received_rma(("10.00", 1, 1, "TOO_SMALL"))
    rma_resolve(rma=other, actor=actor, lines=[LineResolution(line_ids(other)[0], "STORE_CREDIT")])
    assert other.lines.get().store_credit_code != lines[0].store_credit_code


def test_agent_may_set_the_store_credit_amount_up_to_the_goods_value(actor):
    rma = received_rma(("39.99", 2, 2, "TOO_SMALL"))
    [line_id] = line_ids(rma)
    rma_resolve(
        rma=rma,
        actor=actor,
        lines=[LineResolution(line_id, "STORE_CREDIT", store_credit_amount=Decimal("79.98"))],
    )
    line = RmaLine.objects.get(pk=line_id)
    assert line.store_credit_amount == Decimal("79.98")
    assert line.restocking_fee is None


def test_replacement_defaults_to_the_same_item(actor):
    rma = received_rma(("39.99", 1, 1, "DEFECTIVE"))
    [line_id] = line_ids(rma)
    rma_resolve(rma=rma, actor=actor, lines=[LineResolution(line_id, "REPLACEMENT")])
    line = RmaLine.objects.select_related("order_line").get(pk=line_id)
    assert line.replacement_item_id == line.order_line.item_id
    assert line.refund_amount is None


def test_outcome_need_not_be_among_the_resolutions_offered_to_shoppers(actor):
    rma = received_rma(("39.99", 1, 1, "DEFECTIVE"))
    rma.store.policy = {"resolutions": ["REFUND"]}
    rma.store.save()
    rma_resolve(rma=rma, actor=actor, lines=[LineResolution(line_ids(rma)[0], "REPAIR")])
    assert rma.lines.get().outcome == "REPAIR"


def _bad_decisions(rma, case):
    first, second = line_ids(rma)
    refund_second = LineResolution(second, "REFUND")
    return {
        "unknown outcome": [LineResolution(first, "CASH"), refund_second],
        "exchange without item": [LineResolution(first, "EXCHANGE"), refund_second],
        "exchange blank item": [
            LineResolution(first, "EXCHANGE", replacement_item_id="  "),
            refund_second,
        ],
        "credit above value": [
            LineResolution(first, "STORE_CREDIT", store_credit_amount=Decimal("79.99")),
            refund_second,
        ],
        "credit negative": [
            LineResolution(first, "STORE_CREDIT", store_credit_amount=Decimal("-1")),
            refund_second,
        ],
        "credit not a number": [
            LineResolution(first, "STORE_CREDIT", store_credit_amount="ten"),
            refund_second,
        ],
        "credit fractional cents": [
            LineResolution(first, "STORE_CREDIT", store_credit_amount=Decimal("1.005")),
            refund_second,
        ],
        "credit code too long": [
            LineResolution(first, "STORE_CREDIT", store_credit_code="X" * 65),
            refund_second,
        ],
        "missing line": [refund_second],
        "duplicate line": [LineResolution(first, "REFUND"), refund_second, refund_second],
    }[case]


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("unknown outcome", "outcome"),
        ("exchange without item", "replacement_item_id"),
        ("exchange blank item", "replacement_item_id"),
        ("credit above value", "store_credit_amount"),
        ("credit negative", "store_credit_amount"),
        ("credit not a number", "store_credit_amount"),
        ("credit fractional cents", "store_credit_amount"),
        ("credit code too long", "store_credit_code"),
        ("missing line", "lines"),
        ("duplicate line", "lines"),
    ],
)
def test_bad_decision_is_refused_and_nothing_is_written(
    actor, case, field, django_capture_on_commit_callbacks
):
    rma = received_rma(("39.99", 2, 2, "TOO_SMALL"), ("10.00", 1, 1, "TOO_SMALL"))
    decisions = _bad_decisions(rma, case)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RequestError) as refused:
        rma_resolve(rma=rma, actor=actor, lines=decisions)
    expected = "lines" if field == "lines" else f"line-{line_ids(rma)[0]}-{field}"
    assert refused.value.field == expected
    rma.refresh_from_db()
    assert (rma.status, rma.resolved_at) == (RmaStatus.RECEIVED, None)
    assert set(rma.lines.values_list("outcome", "refund_amount", "store_credit_code")) == {
        ("", None, "")
    }
    assert not RmaEvent.objects.exists()
    assert not Notification.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert callbacks == []


@pytest.mark.parametrize(
    "status", [s for s in RmaStatus.values if s != RmaStatus.RECEIVED], ids=str
)
def test_only_a_received_rma_can_be_resolved(actor, status):
    rma = received_rma(("39.99", 1, 1, "TOO_SMALL"), status=status)
    with pytest.raises(TransitionError) as refused:
        rma_resolve(rma=rma, actor=actor, lines=[LineResolution(line_ids(rma)[0], "REFUND")])
    assert (refused.value.from_status, refused.value.to_status) == (status, "RESOLVED")
    assert rma.lines.get().outcome == ""
    assert not RmaEvent.objects.exists()
    assert not Notification.objects.exists()
    assert not WebhookDelivery.objects.exists()

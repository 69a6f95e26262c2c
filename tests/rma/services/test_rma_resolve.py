"""Resolving a received return: outcomes, refund and restocking computations, the event."""

import re
from decimal import Decimal

import pytest

from rma.errors import RequestError, TransitionError
from rma.models import Notification, RmaEvent, RmaLine, RmaStatus, WebhookDelivery
from rma.policy import StorePolicy
from rma.services.actors import Actor
from rma.services.rma_resolve import LineResolution, line_refund_breakdown, rma_resolve
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
    ("price", "received", "percent", "reason", "fee", "net"),
    [
        ("39.99", 2, "15", "TOO_SMALL", "12.00", "67.98"),  # 11.997 rounds up
        ("39.99", 2, "15", "DEFECTIVE", "0.00", "79.98"),  # seller fault: no fee
        ("39.99", 1, "10", "TOO_SMALL", "4.00", "35.99"),  # short receipt: 3.999
        ("0.10", 1, "25", "TOO_SMALL", "0.03", "0.07"),  # 0.025: half up, not half even
        ("0.30", 1, "25", "TOO_SMALL", "0.08", "0.22"),  # 0.075: half up
        ("10.00", 1, "12.5", "TOO_SMALL", "1.25", "8.75"),  # fractional percent
        ("19.99", 2, "0", "TOO_SMALL", "0.00", "39.98"),  # no fee configured
        ("19.99", 0, "15", "TOO_SMALL", "0.00", "0.00"),  # nothing arrived
    ],
)
def test_line_refund_breakdown(price, received, percent, reason, fee, net):
    rma = received_rma((price, 2, received, reason), fee_percent=percent)
    line = rma.lines.select_related("order_line", "rma__store").get()
    breakdown = line_refund_breakdown(line, StorePolicy.of(rma.store))
    assert breakdown.restocking_fee == Decimal(fee)
    assert breakdown.net == Decimal(net)
    assert breakdown.gross == breakdown.net + breakdown.restocking_fee
    assert str(breakdown.net) == net, "amounts keep exactly two decimal places"


@pytest.mark.parametrize(
    ("discount", "tax", "received", "already", "gross"),
    [
        # 3 x 10.00 - 1.00 + 2.40 = 31.40 paid: 10.47 a unit, the last one 10.46.
        ("1.00", "2.40", 1, 0, "10.47"),
        ("1.00", "2.40", 2, 0, "20.94"),
        ("1.00", "2.40", 3, 0, "31.40"),
        ("1.00", "2.40", 1, 2, "10.46"),  # the last unit carries the remainder
        ("1.00", "2.40", 2, 1, "20.93"),
        ("0.00", "0.00", 3, 0, "30.00"),
        ("30.00", "0.00", 3, 0, "0.00"),  # fully discounted
    ],
)
def test_line_refund_breakdown_is_what_was_paid(discount, tax, received, already, gross):
    rma = received_rma(("10.00", 3, received, "DEFECTIVE"), fee_percent="0")
    order_line = rma.lines.get().order_line
    order_line.discount, order_line.tax = Decimal(discount), Decimal(tax)
    order_line.save()
    line = rma.lines.select_related("order_line", "rma__store").get()
    breakdown = line_refund_breakdown(line, StorePolicy.of(rma.store), already_returned=already)
    assert breakdown.gross == breakdown.net == Decimal(gross)


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


def money_rma(*lines, policy=None, currency="USD", payment_intent=""):
    """A RECEIVED RMA; each line is (unit_price, quantity, discount, tax, reason_code),
    received in full."""
    store = StoreFactory(currency=currency, policy=policy or {})
    rma = RmaFactory(order__store=store, status=RmaStatus.RECEIVED)
    if payment_intent:
        rma.order.payment_provider, rma.order.payment_intent = "stripe", payment_intent
        rma.order.save()
    for number, (price, quantity, discount, tax, reason) in enumerate(lines, start=1):
        order_line = OrderLineFactory(
            order=rma.order,
            line_number=number,
            quantity=quantity,
            unit_price=Decimal(price),
            discount=Decimal(discount),
            tax=Decimal(tax),
        )
        RmaLineFactory(
            rma=rma,
            order_line=order_line,
            quantity=quantity,
            received_quantity=quantity,
            condition="AS_NEW",
            disposition="RESTOCK",
            reason_code=reason,
        )
    return rma


FEE_POLICY = {
    "return_fee": {
        "amount": "4.95",
        "waived_for_resolutions": ["EXCHANGE", "STORE_CREDIT"],
        "waived_when_seller_fault": True,
    },
    "store_credit_bonus_percent": "10",
}


def test_refund_is_the_amount_paid_less_the_return_fee_once_per_rma(actor):
    # 2 x 19.99 - 5.00 + 3.20 = 38.18 and 1 x 10.00 + 0.80 = 10.80; fee 4.95 once.
    rma = money_rma(
        ("19.99", 2, "5.00", "3.20", "TOO_SMALL"),
        ("10.00", 1, "0.00", "0.80", "TOO_SMALL"),
        policy=FEE_POLICY,
    )
    first, second = line_ids(rma)
    rma_resolve(
        rma=rma,
        actor=actor,
        lines=[LineResolution(first, "REFUND"), LineResolution(second, "REFUND")],
    )
    amounts = [line.refund_amount for line in rma.lines.order_by("order_line__line_number")]
    assert amounts == [Decimal("33.23"), Decimal("10.80")]
    data = RmaEvent.objects.get(rma=rma, type="rma.resolved").data
    assert (data["refund_total"], data["return_fee"]) == ("44.03", "4.95")
    assert [line["return_fee"] for line in data["lines"]] == ["4.95", "0.00"]


@pytest.mark.parametrize(
    ("reason", "outcome", "fee"),
    [
        ("TOO_SMALL", "REFUND", "4.95"),
        ("DEFECTIVE", "REFUND", "0.00"),  # seller fault waives it
        ("TOO_SMALL", "STORE_CREDIT", "0.00"),  # store credit waives it
    ],
)
def test_return_fee_waivers(actor, reason, outcome, fee):
    rma = money_rma(("20.00", 1, "0", "0", reason), policy=FEE_POLICY)
    rma_resolve(rma=rma, actor=actor, lines=[LineResolution(line_ids(rma)[0], outcome)])
    assert RmaEvent.objects.get(rma=rma, type="rma.resolved").data["return_fee"] == fee


def test_store_credit_gets_the_bonus_and_goes_into_the_ledger(actor):
    from payments.models import StoreCredit

    rma = money_rma(("20.00", 2, "2.00", "1.00", "TOO_SMALL"), policy=FEE_POLICY)
    [line_id] = line_ids(rma)
    rma_resolve(rma=rma, actor=actor, lines=[LineResolution(line_id, "STORE_CREDIT")])
    line = RmaLine.objects.get(pk=line_id)
    # 39.00 paid, plus 10 % = 42.90; no return fee on store credit.
    assert line.store_credit_amount == Decimal("42.90")
    credit = StoreCredit.objects.get(code=line.store_credit_code)
    assert (credit.amount, credit.balance, credit.currency, credit.rma_id) == (
        Decimal("42.90"),
        Decimal("42.90"),
        "USD",
        rma.pk,
    )
    assert [(entry.kind, entry.amount) for entry in credit.entries.all()] == [
        ("ISSUE", Decimal("42.90"))
    ]
    assert (credit.expires_at - rma.resolved_at).days == 365


def test_a_store_credit_code_already_in_the_ledger_is_refused(actor):
    from payments.models import StoreCredit

    first = money_rma(("10.00", 1, "0", "0", "TOO_SMALL"))
    rma_resolve(
        rma=first,
        actor=actor,
        lines=[LineResolution(line_ids(first)[0], "STORE_CREDIT", store_credit_code="GIFT-1")],
    )
    second = money_rma(("10.00", 1, "0", "0", "TOO_SMALL"))
    with pytest.raises(RequestError) as refused:
        rma_resolve(
            rma=second,
            actor=actor,
            lines=[LineResolution(line_ids(second)[0], "STORE_CREDIT", store_credit_code="GIFT-1")],
        )
    assert refused.value.field == f"line-{line_ids(second)[0]}-store_credit_code"
    second.refresh_from_db()
    assert second.status == RmaStatus.RECEIVED
    assert StoreCredit.objects.count() == 1


def test_a_cheaper_exchange_refunds_the_difference(actor):
    rma = money_rma(("25.00", 2, "0", "0", "TOO_SMALL"), policy=FEE_POLICY)
    [line_id] = line_ids(rma)
    rma_resolve(
        rma=rma,
        actor=actor,
        lines=[
            LineResolution(
                line_id, "EXCHANGE", replacement_item_id="TEE-S", exchange_unit_price="21.50"
            )
        ],
    )
    line = RmaLine.objects.get(pk=line_id)
    assert (line.outcome, line.refund_amount) == ("EXCHANGE", Decimal("7.00"))


def test_a_line_returned_in_two_rmas_refunds_exactly_what_was_paid(actor):
    # 3 x 10.00 - 1.00 = 29.00 paid: 9.67 a unit, the last 9.66.
    first = money_rma(("10.00", 3, "1.00", "0", "DEFECTIVE"))
    order_line = first.lines.get().order_line
    line = first.lines.get()
    line.quantity = line.received_quantity = 2
    line.save()
    rma_resolve(rma=first, actor=actor, lines=[LineResolution(line.pk, "REFUND")])
    second = RmaFactory(order=first.order, status=RmaStatus.RECEIVED)
    other = RmaLineFactory(
        rma=second, order_line=order_line, quantity=1, received_quantity=1, reason_code="DEFECTIVE"
    )
    rma_resolve(rma=second, actor=actor, lines=[LineResolution(other.pk, "REFUND")])
    refunds = [RmaLine.objects.get(pk=pk).refund_amount for pk in (line.pk, other.pk)]
    assert refunds == [Decimal("19.34"), Decimal("9.66")]
    assert sum(refunds) == Decimal("29.00")


def test_zero_decimal_currency_amounts(actor):
    rma = money_rma(("1000", 3, "1", "0", "DEFECTIVE"), currency="JPY")
    [line_id] = line_ids(rma)
    rma_resolve(rma=rma, actor=actor, lines=[LineResolution(line_id, "REFUND")])
    data = RmaEvent.objects.get(rma=rma, type="rma.resolved").data
    assert (data["currency"], data["refund_total"]) == ("JPY", "2999")

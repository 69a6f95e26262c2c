"""Receiving a parcel: per line quantity, condition and disposition, then RECEIVED."""

from decimal import Decimal

import pytest

from rma.errors import RequestError, TransitionError
from rma.models import (
    Notification,
    RmaEvent,
    RmaLine,
    RmaStatus,
    WebhookDelivery,
)
from rma.services.actors import Actor
from rma.services.rma_receive import ReceivedLine, ReceivedUnits, rma_receive
from rma.services.rma_resolve import LineResolution, rma_resolve
from tests.factories import UserFactory, WebhookEndpointFactory, rma_with_lines

pytestmark = pytest.mark.django_db


@pytest.fixture
def rma():
    rma = rma_with_lines(2, 1)
    WebhookEndpointFactory(store=rma.store)
    return rma


@pytest.fixture
def actor():
    return Actor.agent(UserFactory(username="warehouse"))


def full_receipt(rma):
    return [
        ReceivedLine(line.pk, line.quantity, "AS_NEW", "RESTOCK")
        for line in rma.lines.order_by("order_line__line_number")
    ]


def test_full_receipt_records_every_line_and_moves_to_received(
    rma, actor, django_capture_on_commit_callbacks
):
    first, second = rma.lines.order_by("order_line__line_number")
    with django_capture_on_commit_callbacks() as callbacks:
        result = rma_receive(
            rma=rma,
            actor=actor,
            lines=[
                ReceivedLine(first.pk, 2, "OPENED", "REFURBISH"),
                ReceivedLine(second.pk, 1, "DEFECTIVE", "RETURN_TO_VENDOR"),
            ],
        )
    assert result.status == rma.status == RmaStatus.RECEIVED
    assert result.received_at is not None
    recorded = list(
        RmaLine.objects.filter(rma=rma)
        .order_by("order_line__line_number")
        .values_list("received_quantity", "condition", "disposition")
    )
    assert recorded == [(2, "OPENED", "REFURBISH"), (1, "DEFECTIVE", "RETURN_TO_VENDOR")]
    event = RmaEvent.objects.get(rma=rma)
    assert event.type == "rma.received"
    assert event.actor_user == actor.user
    assert event.data["short"] is False
    assert [line["received_quantity"] for line in event.data["lines"]] == [2, 1]
    assert event.data["lines"][1] == {
        "line_number": 2,
        "item_id": second.order_line.item_id,
        "quantity": 1,
        "received_quantity": 1,
        "condition": "DEFECTIVE",
        "disposition": "RETURN_TO_VENDOR",
        "units": [{"quantity": 1, "condition": "DEFECTIVE", "disposition": "RETURN_TO_VENDOR"}],
    }
    assert Notification.objects.get(rma=rma).kind == "received"
    delivery = WebhookDelivery.objects.get(rma=rma)
    assert delivery.event == "rma.received"
    assert delivery.payload["data"]["lines"] == event.data["lines"]
    assert len(callbacks) == 2, "the email and the webhook are enqueued after commit"


def test_short_receipt_is_allowed_and_marked_short(rma, actor):
    first, second = rma.lines.order_by("order_line__line_number")
    rma_receive(
        rma=rma,
        actor=actor,
        lines=[
            ReceivedLine(second.pk, 0, "AS_NEW", "RESTOCK"),
            ReceivedLine(first.pk, 1, "DAMAGED", "DISPOSE"),
        ],
    )
    assert rma.status == RmaStatus.RECEIVED
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.received_quantity, second.received_quantity) == (1, 0)
    event = RmaEvent.objects.get(rma=rma, type="rma.received")
    assert event.data["short"] is True
    assert [line["line_number"] for line in event.data["lines"]] == [1, 2]


def _bad_lines(rma, case):
    first, second = rma.lines.order_by("order_line__line_number")
    other = rma_with_lines(1).lines.get()
    good_second = ReceivedLine(second.pk, 1, "AS_NEW", "RESTOCK")
    return {
        "above requested": [ReceivedLine(first.pk, 3, "AS_NEW", "RESTOCK"), good_second],
        "negative": [ReceivedLine(first.pk, -1, "AS_NEW", "RESTOCK"), good_second],
        "not a number": [ReceivedLine(first.pk, "2", "AS_NEW", "RESTOCK"), good_second],
        "unknown condition": [ReceivedLine(first.pk, 2, "LIKE_NEW", "RESTOCK"), good_second],
        "empty condition": [ReceivedLine(first.pk, 2, "", "RESTOCK"), good_second],
        "unknown disposition": [ReceivedLine(first.pk, 2, "AS_NEW", "SELL"), good_second],
        "empty disposition": [ReceivedLine(first.pk, 2, "AS_NEW", ""), good_second],
        "not inspected": [ReceivedLine(first.pk, 2, "UNINSPECTED", "RESTOCK"), good_second],
        "units short of received": [
            ReceivedLine(first.pk, 2, units=(ReceivedUnits(1, "AS_NEW", "RESTOCK"),)),
            good_second,
        ],
        "units beyond received": [
            ReceivedLine(
                first.pk,
                1,
                units=(
                    ReceivedUnits(1, "AS_NEW", "RESTOCK"),
                    ReceivedUnits(1, "DAMAGED", "DISPOSE"),
                ),
            ),
            good_second,
        ],
        "a group of no units": [
            ReceivedLine(
                first.pk,
                2,
                units=(
                    ReceivedUnits(2, "AS_NEW", "RESTOCK"),
                    ReceivedUnits(0, "DAMAGED", "DISPOSE"),
                ),
            ),
            good_second,
        ],
        "a group without condition": [
            ReceivedLine(
                first.pk,
                2,
                units=(ReceivedUnits(1, "AS_NEW", "RESTOCK"), ReceivedUnits(1, "", "DISPOSE")),
            ),
            good_second,
        ],
        "units of nothing received": [
            ReceivedLine(first.pk, 0, units=(ReceivedUnits(1, "AS_NEW", "RESTOCK"),)),
            good_second,
        ],
        "missing line": [good_second],
        "no lines": [],
        "duplicate line": [
            ReceivedLine(first.pk, 1, "AS_NEW", "RESTOCK"),
            ReceivedLine(first.pk, 1, "AS_NEW", "RESTOCK"),
            good_second,
        ],
        "line of another rma": [
            ReceivedLine(first.pk, 2, "AS_NEW", "RESTOCK"),
            good_second,
            ReceivedLine(other.pk, 1, "AS_NEW", "RESTOCK"),
        ],
    }[case]


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("above requested", "received_quantity"),
        ("negative", "received_quantity"),
        ("not a number", "received_quantity"),
        ("unknown condition", "condition"),
        ("empty condition", "condition"),
        ("unknown disposition", "disposition"),
        ("empty disposition", "disposition"),
        ("not inspected", "condition"),
        ("units short of received", "units"),
        ("units beyond received", "units"),
        ("a group of no units", "units"),
        ("a group without condition", "condition"),
        ("units of nothing received", "units"),
        ("missing line", "lines"),
        ("no lines", "lines"),
        ("duplicate line", "lines"),
        ("line of another rma", "lines"),
    ],
)
def test_bad_input_is_refused_with_its_field_and_nothing_is_written(
    rma, actor, case, field, django_capture_on_commit_callbacks
):
    lines = _bad_lines(rma, case)
    first_line_id = rma.lines.order_by("order_line__line_number").first().pk
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RequestError) as refused:
        rma_receive(rma=rma, actor=actor, lines=lines)
    expected = "lines" if field == "lines" else f"line-{first_line_id}-{field}"
    assert refused.value.field == expected
    assert refused.value.message
    rma.refresh_from_db()
    assert rma.status == RmaStatus.AUTHORIZED
    assert rma.received_at is None
    assert not RmaLine.objects.filter(rma=rma, received_quantity__isnull=False).exists()
    assert not RmaLine.objects.filter(rma=rma).exclude(condition="").exists()
    assert not RmaEvent.objects.exists()
    assert not Notification.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert callbacks == []


@pytest.mark.parametrize(
    "status", [s for s in RmaStatus.values if s != RmaStatus.AUTHORIZED], ids=str
)
def test_only_an_authorized_rma_can_be_received(actor, status):
    rma = rma_with_lines(1, status=status)
    WebhookEndpointFactory(store=rma.store)
    with pytest.raises(TransitionError) as refused:
        rma_receive(rma=rma, actor=actor, lines=full_receipt(rma))
    assert (refused.value.from_status, refused.value.to_status) == (status, "RECEIVED")
    assert rma.rma_number in str(refused.value)
    assert not RmaLine.objects.filter(received_quantity__isnull=False).exists()
    assert not RmaEvent.objects.exists()
    assert not Notification.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_receiving_twice_is_refused_and_keeps_the_first_record(rma, actor):
    rma_receive(rma=rma, actor=actor, lines=full_receipt(rma))
    again = [ReceivedLine(line.pk, 0, "DAMAGED", "DISPOSE") for line in rma.lines.all()]
    with pytest.raises(TransitionError):
        rma_receive(rma=rma, actor=actor, lines=again)
    assert set(rma.lines.values_list("condition", flat=True)) == {"AS_NEW"}
    assert RmaEvent.objects.filter(type="rma.received").count() == 1


def test_nothing_received_needs_no_condition_and_records_none(rma, actor):
    first, second = rma.lines.order_by("order_line__line_number")
    rma_receive(
        rma=rma,
        actor=actor,
        lines=[ReceivedLine(first.pk, 2, "OPENED", "RESTOCK"), ReceivedLine(second.pk, 0)],
    )
    second.refresh_from_db()
    assert (second.received_quantity, second.condition, second.disposition) == (0, "", "")
    assert second.receipt_units == []
    event = RmaEvent.objects.get(rma=rma, type="rma.received")
    assert event.data["lines"][1]["units"] == []


def test_units_in_different_conditions_are_kept_per_group_and_the_line_shows_the_worst(rma, actor):
    first, second = rma.lines.order_by("order_line__line_number")
    rma_receive(
        rma=rma,
        actor=actor,
        lines=[
            ReceivedLine(
                first.pk,
                2,
                units=(
                    ReceivedUnits(1, "AS_NEW", "RESTOCK"),
                    ReceivedUnits(1, "DAMAGED", "DISPOSE"),
                ),
            ),
            ReceivedLine(
                second.pk,
                1,
                units=(ReceivedUnits(1, "OPENED", "RESTOCK"),),
            ),
        ],
    )
    first.refresh_from_db()
    assert first.received_quantity == 2
    assert (first.condition, first.disposition) == ("DAMAGED", "DISPOSE")
    assert first.receipt_units == [
        {"quantity": 1, "condition": "AS_NEW", "disposition": "RESTOCK"},
        {"quantity": 1, "condition": "DAMAGED", "disposition": "DISPOSE"},
    ]
    event = RmaEvent.objects.get(rma=rma, type="rma.received")
    assert event.data["lines"][0]["units"] == first.receipt_units
    assert event.data["short"] is False


def test_groups_alike_are_merged(rma, actor):
    first, second = rma.lines.order_by("order_line__line_number")
    rma_receive(
        rma=rma,
        actor=actor,
        lines=[
            ReceivedLine(
                first.pk,
                2,
                units=(
                    ReceivedUnits(1, "OPENED", "REFURBISH"),
                    ReceivedUnits(1, "OPENED", "REFURBISH"),
                ),
            ),
            ReceivedLine(second.pk, 1, "AS_NEW", "RESTOCK"),
        ],
    )
    first.refresh_from_db()
    assert first.receipt_units == [
        {"quantity": 2, "condition": "OPENED", "disposition": "REFURBISH"}
    ]


@pytest.mark.parametrize(
    ("reason", "refund", "fee"),
    [("TOO_SMALL", "67.98", "12.00"), ("DEFECTIVE", "79.98", "0.00")],
)
def test_a_damaged_unit_counts_for_the_refund_like_an_as_new_one(actor, reason, refund, fee):
    """Condition decides where a unit goes, not the money: both units are refunded, and the
    restocking fee follows the reason (seller fault or not) for both."""
    rma = rma_with_lines(2)
    rma.store.policy = {"restocking_fee_percent": "15"}
    rma.store.save()
    line = rma.lines.get()
    line.order_line.unit_price = Decimal("39.99")
    line.order_line.save()
    RmaLine.objects.filter(pk=line.pk).update(reason_code=reason)
    rma_receive(
        rma=rma,
        actor=actor,
        lines=[
            ReceivedLine(
                line.pk,
                2,
                units=(
                    ReceivedUnits(1, "AS_NEW", "RESTOCK"),
                    ReceivedUnits(1, "DAMAGED", "DISPOSE"),
                ),
            )
        ],
    )
    rma_resolve(rma=rma, actor=actor, lines=[LineResolution(line.pk, "REFUND")])
    line.refresh_from_db()
    assert line.received_quantity == 2
    assert (line.refund_amount, line.restocking_fee) == (Decimal(refund), Decimal(fee))

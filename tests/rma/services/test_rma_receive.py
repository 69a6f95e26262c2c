"""Receiving a parcel: per line quantity, condition and disposition, then RECEIVED."""

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
from rma.services.rma_receive import ReceivedLine, rma_receive
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

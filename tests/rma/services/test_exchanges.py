"""Exchanges through the request service and the status moves: reserve on request (RMA 1023
refusals like other line errors, nothing half-written), stock back on cancel / reject /
expiry, the replacement released on receipt or at once, with its webhook and email."""

from decimal import Decimal

import pytest
from django.core import mail

from catalogue.models import ExchangeReservation, Variant
from rma.errors import RequestError, RmaError
from rma.models import Notification, Rma, RmaEvent, RmaLine, RmaStatus, WebhookDelivery
from rma.services.actors import Actor
from rma.services.notifications import notification_send
from rma.services.rma_receive import ReceivedLine, rma_receive
from rma.services.rma_request import RequestedLine, rma_request
from rma.services.rma_status import rma_approve, rma_cancel, rma_expire, rma_reject
from tests.catalogue.factories import ProductFactory, VariantFactory
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

AGENT = Actor.system("test agent")


@pytest.fixture
def store():
    return StoreFactory(code="TMSUS")


@pytest.fixture
def tee(store):
    product = ProductFactory(store=store, product_id="TEE-1", title="Organic tee")
    sizes = {"M": ("25.00", 4), "L": ("25.00", 1), "S": ("19.00", 2), "XL": ("30.00", 5)}
    return {
        size: VariantFactory(
            product=product,
            item_id=f"TEE-1-{size}",
            options=[["Size", size], ["Colour", "Blue"]],
            price=Decimal(price),
            stock=stock,
        )
        for size, (price, stock) in sizes.items()
    }


@pytest.fixture
def order(store, tee):
    order = OrderFactory(store=store)
    OrderLineFactory(
        order=order, line_number=1, item_id="TEE-1-M", quantity=1, unit_price=Decimal("25.00")
    )
    OrderLineFactory(order=order, line_number=2, item_id="MUG-1", quantity=1)
    return order


def request(order, *lines, resolution="EXCHANGE", channel="PORTAL"):
    return rma_request(
        order=order,
        lines=list(lines),
        resolution=resolution,
        actor=Actor.shopper(order.customer_email),
        channel=channel,
    )


def stock(variant) -> int:
    return Variant.objects.get(pk=variant.pk).stock


def test_an_exchange_reserves_the_stock_and_names_the_replacement(order, tee):
    [rma] = request(order, RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-1-L"))

    line = RmaLine.objects.get(rma=rma)
    assert line.replacement_item_id == "TEE-1-L"
    reservation = ExchangeReservation.objects.get(rma_line=line)
    assert (reservation.variant_id, reservation.quantity) == (tee["L"].pk, 1)
    assert reservation.is_active
    assert stock(tee["L"]) == 0
    created = rma.events.get(type="rma.created")
    assert created.data["lines"][0]["exchange_item_id"] == "TEE-1-L"
    # Not instant: the replacement waits for the parcel.
    assert not RmaEvent.objects.filter(type="rma.exchange_released").exists()


def test_a_cheaper_variant_records_the_difference(order, tee):
    [rma] = request(order, RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-1-S"))
    reservation = ExchangeReservation.objects.get(rma_line__rma=rma)
    assert reservation.price_difference == Decimal("6.00")


@pytest.mark.parametrize(
    ("item_id", "detail"),
    [
        ("NOPE", "line 1: "),
        ("TEE-1-XL", "line 1: "),  # dearer than paid
        ("TEE-1-M", "line 1: "),  # the item ordered
    ],
)
def test_unavailable_exchange_is_refused_with_1023_and_nothing_written(order, tee, item_id, detail):
    with pytest.raises(RmaError) as refused:
        request(order, RequestedLine(1, 1, "TOO_SMALL", exchange_item_id=item_id))
    assert refused.value.code == "RMA 1023"
    assert [(item.line_number, item.code) for item in refused.value.items] == [(1, "RMA 1023")]
    assert refused.value.detail.startswith(detail)
    assert not Rma.objects.exists()
    assert not ExchangeReservation.objects.exists()
    assert not Notification.objects.exists()
    assert stock(tee["XL"]) == 5


def test_out_of_stock_exchange_is_refused_and_reported_with_other_line_failures(order, tee):
    Variant.objects.filter(pk=tee["L"].pk).update(stock=0)
    with pytest.raises(RmaError) as refused:
        request(
            order,
            RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-1-L"),
            RequestedLine(2, 5, "TOO_SMALL"),
        )
    items = {(item.line_number, item.code) for item in refused.value.items}
    assert items == {(1, "RMA 1023"), (2, "RMA 1007")}
    assert "out of stock" in refused.value.detail
    assert not Rma.objects.exists()


def test_the_last_unit_taken_meanwhile_undoes_the_whole_request(order, tee, monkeypatch):
    # The check passes, then another request takes the unit before the row lock: the
    # reservation refuses and nothing of this request remains.
    from rma.services import exchanges

    real_check = exchanges.exchange_check

    def check_then_sold_out(**kwargs):
        quote = real_check(**kwargs)
        Variant.objects.filter(pk=tee["L"].pk).update(stock=0)
        return quote

    monkeypatch.setattr(exchanges, "exchange_check", check_then_sold_out)
    with pytest.raises(RmaError) as refused:
        request(order, RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-1-L"))
    assert refused.value.code == "RMA 1023"
    assert not Rma.objects.exists()
    assert not RmaLine.objects.exists()
    assert not ExchangeReservation.objects.exists()


def test_an_exchange_item_needs_the_exchange_resolution(order, tee):
    with pytest.raises(RequestError) as refused:
        request(
            order, RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-1-L"), resolution="REFUND"
        )
    assert refused.value.field == "line-1-exchange"
    assert not Rma.objects.exists()
    assert stock(tee["L"]) == 1


@pytest.mark.parametrize("end", ["cancel", "reject", "expire"])
def test_ending_the_return_gives_the_unit_back_once(order, tee, end):
    if end == "reject":
        order.store.policy = {
            "reasons": [{"code": "CHECK", "description": "Check", "requires_review": True}]
        }
        order.store.save()
        reason = "CHECK"
    else:
        reason = "TOO_SMALL"
    [rma] = request(order, RequestedLine(1, 1, reason, exchange_item_id="TEE-1-L"))
    assert stock(tee["L"]) == 0

    if end == "cancel":
        rma_cancel(rma=rma, actor=Actor.shopper(order.customer_email))
    elif end == "reject":
        rma_reject(rma=rma, actor=AGENT, reason="Worn")
    else:
        rma_expire(rma=rma)

    assert stock(tee["L"]) == 1
    reservation = ExchangeReservation.objects.get()
    assert (
        reservation.released_reason
        == {
            "cancel": "CANCELLED",
            "reject": "REJECTED",
            "expire": "EXPIRED",
        }[end]
    )
    assert not RmaEvent.objects.filter(type="rma.exchange_released").exists()


def received(rma):
    return [
        ReceivedLine(line.pk, line.quantity, "AS_NEW", "RESTOCK")
        for line in RmaLine.objects.filter(rma=rma)
    ]


def test_receipt_releases_the_replacement_with_webhook_and_one_email(
    order, tee, django_capture_on_commit_callbacks
):
    WebhookEndpointFactory(store=order.store)
    [rma] = request(order, RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-1-L"))
    with django_capture_on_commit_callbacks(execute=False):
        rma_receive(rma=rma, actor=AGENT, lines=received(rma))

    reservation = ExchangeReservation.objects.get()
    assert reservation.replacement_released_at is not None
    event = RmaEvent.objects.get(type="rma.exchange_released")
    assert event.data["lines"][0]["item_id"] == "TEE-1-L"
    assert WebhookDelivery.objects.filter(rma=rma, event="rma.exchange_released").exists()
    notification = Notification.objects.get(kind="exchange_released")
    assert notification.recipient == order.customer_email

    mail.outbox.clear()
    assert notification_send(notification_id=notification.pk)
    assert not notification_send(notification_id=notification.pk)
    [email] = mail.outbox
    assert "replacement" in email.subject
    assert "Organic tee (Size: L, Colour: Blue)" in email.body
    html = email.alternatives[0][0]
    assert "Organic tee (Size: L, Colour: Blue)" in html

    # Units gone for good: no stock back, whatever happens next.
    assert stock(tee["L"]) == 0


def test_instant_policy_releases_the_replacement_at_authorization(order, tee):
    order.store.policy = {"exchange": {"instant": True}}
    order.store.save()
    [rma] = request(order, RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-1-L"))
    assert rma.status == RmaStatus.AUTHORIZED
    assert RmaEvent.objects.filter(rma=rma, type="rma.exchange_released").count() == 1
    assert Notification.objects.filter(kind="exchange_released").count() == 1
    # Cancelled later: the replacement already went, so the stock stays taken.
    rma_cancel(rma=rma, actor=AGENT)
    assert stock(tee["L"]) == 0


def test_instant_policy_releases_after_an_agent_approves(order, tee):
    order.store.policy = {
        "exchange": {"instant": True},
        "reasons": [{"code": "CHECK", "description": "Check", "requires_review": True}],
    }
    order.store.save()
    [rma] = request(order, RequestedLine(1, 1, "CHECK", exchange_item_id="TEE-1-L"))
    assert rma.status == RmaStatus.REQUESTED
    assert not RmaEvent.objects.filter(type="rma.exchange_released").exists()
    rma_approve(rma=rma, actor=AGENT)
    assert RmaEvent.objects.filter(rma=rma, type="rma.exchange_released").count() == 1


def test_counter_return_releases_the_replacement_at_once(order, tee):
    [rma] = rma_request(
        order=order,
        lines=[RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-1-L")],
        resolution="EXCHANGE",
        actor=AGENT,
        channel="API",
        items_received=True,
    )
    assert rma.status == RmaStatus.RECEIVED
    assert RmaEvent.objects.filter(rma=rma, type="rma.exchange_released").count() == 1


def test_a_refund_request_touches_no_stock(order, tee):
    [rma] = request(order, RequestedLine(1, 1, "TOO_SMALL"), resolution="REFUND")
    rma_cancel(rma=rma, actor=AGENT)
    assert not ExchangeReservation.objects.exists()
    assert {v.item_id: v.stock for v in Variant.objects.all()} == {
        "TEE-1-M": 4,
        "TEE-1-L": 1,
        "TEE-1-S": 2,
        "TEE-1-XL": 5,
    }


def test_the_estimate_refunds_a_cheaper_variants_difference(order, tee):
    from rma.estimates import rma_estimates
    from rma.selectors import rmas_with_lines

    [rma] = request(order, RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-1-S"))
    reservation = ExchangeReservation.objects.get(rma_line__rma=rma)
    # As requested (the lines written in this request) and as read back.
    assert rma_estimates([rma])[rma.pk].total == reservation.price_difference == Decimal("6.00")
    fetched = rmas_with_lines().get(pk=rma.pk)
    assert rma_estimates([fetched])[rma.pk].total == Decimal("6.00")


def test_the_same_price_exchange_gives_nothing_back(order, tee):
    from rma.estimates import rma_estimates

    [rma] = request(order, RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-1-L"))
    assert rma_estimates([rma])[rma.pk].total == Decimal("0.00")


def test_estimates_read_the_exchanges_with_the_lines(order, tee, django_assert_num_queries):
    from rma.estimates import rma_estimates
    from rma.selectors import rmas_with_lines

    [rma] = request(
        order,
        RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-1-S"),
        RequestedLine(2, 1, "TOO_SMALL"),
    )
    fetched = list(rmas_with_lines().filter(pk=rma.pk))
    with django_assert_num_queries(1):  # the earlier returns; the exchanges came along
        estimates = rma_estimates(fetched)
    assert estimates[rma.pk].line(RmaLine.objects.get(rma=rma, order_line__line_number=1).pk)


def test_resolving_an_exchange_takes_the_reserved_price_when_none_is_given(order, tee):
    from rma.services.rma_resolve import LineResolution, rma_resolve

    [rma] = request(order, RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-1-S"))
    line = RmaLine.objects.get(rma=rma)
    rma_receive(rma=rma, actor=AGENT, lines=received(rma))
    rma_resolve(
        rma=rma,
        actor=AGENT,
        lines=[LineResolution(line.pk, "EXCHANGE", replacement_item_id="TEE-1-S")],
    )
    line.refresh_from_db()
    assert (line.outcome, line.replacement_item_id) == ("EXCHANGE", "TEE-1-S")
    assert line.refund_amount == Decimal("6.00")  # 25.00 paid, 19.00 the replacement

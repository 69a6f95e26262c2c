"""Exchange services: check (RMA 1023), reserve, release, release the replacement."""

from decimal import Decimal

import pytest

from catalogue.models import ExchangeReservation, Variant
from catalogue.services import (
    exchange_check,
    exchange_release,
    exchange_release_replacement,
    exchange_reserve,
    replacement_may_be_released,
)
from rma.errors import LineFailure, RmaError
from rma.models import RmaEvent, RmaStatus, WebhookDelivery
from rma.services.actors import Actor
from tests.catalogue.factories import ProductFactory, VariantFactory
from tests.factories import (
    OrderFactory,
    OrderLineFactory,
    RmaFactory,
    RmaLineFactory,
    StoreFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db


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
def rma_line(store, tee):
    """A return of both units of a line of 2 x TEE-1-M at 25.00 with 0.01 tax (paid
    25.01 then 25.00: the last unit carries the rounding remainder), authorized."""
    order = OrderFactory(store=store)
    line = OrderLineFactory(
        order=order,
        line_number=1,
        item_id="TEE-1-M",
        quantity=2,
        unit_price=Decimal("25.00"),
        tax=Decimal("0.01"),
    )
    rma = RmaFactory(order=order, status=RmaStatus.AUTHORIZED)
    return RmaLineFactory(rma=rma, order_line=line, quantity=2)


def refusal_of(call) -> RmaError:
    with pytest.raises(RmaError) as raised:
        call()
    assert raised.value.code == "RMA 1023"
    assert raised.value.description == "Exchange item not available"
    return raised.value


def stock(item_id: str) -> int:
    return Variant.objects.get(item_id=item_id).stock


def test_check_quotes_a_cheaper_variant_with_the_difference(rma_line, tee):
    quote = exchange_check(order_line=rma_line.order_line, item_id="TEE-1-S", quantity=2)

    assert quote.variant == tee["S"]
    assert quote.amount_paid == Decimal("50.01")
    assert quote.price_difference == Decimal("12.01")


@pytest.mark.parametrize(
    ("item_id", "quantity", "detail"),
    [
        ("NOPE", 1, "line 1: the item is not in the store's catalogue"),
        ("TEE-1-M", 1, "line 1: the item is the one ordered: pick another variant"),
        ("TEE-1-L", 2, "line 1: out of stock (1 left, 2 wanted)"),
        ("TEE-1-XL", 1, "line 1: the item costs 30.00, more than the 25.01 paid per unit"),
    ],
)
def test_check_refuses_with_rma_1023(rma_line, item_id, quantity, detail):
    error = refusal_of(
        lambda: exchange_check(order_line=rma_line.order_line, item_id=item_id, quantity=quantity)
    )

    assert error.detail == detail
    assert error.items == [LineFailure(1, "RMA 1023")]


def test_another_product_needs_the_policy(store, rma_line):
    VariantFactory(
        product=ProductFactory(store=store), item_id="MUG-1", price=Decimal("9.00"), stock=3
    )

    error = refusal_of(
        lambda: exchange_check(order_line=rma_line.order_line, item_id="MUG-1", quantity=1)
    )
    assert "another product" in error.detail

    store.policy = {"exchange": {"allow_other_products": True}}
    store.save()
    rma_line.order_line.order.store = store

    quote = exchange_check(order_line=rma_line.order_line, item_id="MUG-1", quantity=1)
    assert quote.price_difference == Decimal("16.01")


def test_another_stores_variant_is_unknown(rma_line):
    VariantFactory(item_id="TEE-1-S-ELSEWHERE")

    error = refusal_of(
        lambda: exchange_check(
            order_line=rma_line.order_line, item_id="TEE-1-S-ELSEWHERE", quantity=1
        )
    )
    assert "not in the store's catalogue" in error.detail


def test_reserve_takes_the_stock_and_stores_the_difference(rma_line, tee):
    reservation = exchange_reserve(rma_line=rma_line, variant=tee["S"], quantity=2)

    assert stock("TEE-1-S") == 0
    reservation.refresh_from_db()
    assert (reservation.quantity, reservation.unit_price, reservation.price_difference) == (
        2,
        Decimal("19.00"),
        Decimal("12.01"),
    )
    assert reservation.is_active
    assert rma_line.exchange_reservation == reservation


def test_the_difference_is_of_the_units_returned(rma_line, tee):
    rma_line.quantity = 1
    # The first unit was returned before: this one cost 25.00, the price of L.
    reservation = exchange_reserve(
        rma_line=rma_line, variant=tee["L"], quantity=1, already_returned=1
    )

    assert reservation.price_difference == Decimal("0.00")
    assert stock("TEE-1-L") == 0


def test_reserve_checks_the_stock_as_it_is_in_the_database(rma_line, tee):
    stale = tee["S"]
    Variant.objects.filter(pk=stale.pk).update(stock=1)
    assert stale.stock == 2

    refusal_of(lambda: exchange_reserve(rma_line=rma_line, variant=stale, quantity=2))

    assert stock("TEE-1-S") == 1
    assert not ExchangeReservation.objects.exists()


def test_reserve_refuses_more_units_than_returned(rma_line, tee):
    with pytest.raises(ValueError, match="cannot exchange 3 of 2"):
        exchange_reserve(rma_line=rma_line, variant=tee["S"], quantity=3)
    assert stock("TEE-1-S") == 2


@pytest.mark.parametrize("reason", ["CANCELLED", "REJECTED", "EXPIRED"])
def test_release_gives_the_stock_back_once(rma_line, tee, reason):
    exchange_reserve(rma_line=rma_line, variant=tee["S"], quantity=2)

    released = exchange_release(rma=rma_line.rma, reason=reason)
    again = exchange_release(rma=rma_line.rma, reason=reason)

    assert len(released) == 1
    assert again == []
    assert stock("TEE-1-S") == 2
    reservation = ExchangeReservation.objects.get()
    assert reservation.released_reason == reason
    assert reservation.released_at is not None
    assert not reservation.is_active


def test_release_refuses_an_unknown_reason(rma_line, tee):
    exchange_reserve(rma_line=rma_line, variant=tee["S"], quantity=2)

    with pytest.raises(ValueError):
        exchange_release(rma=rma_line.rma, reason="RESOLVED")
    assert stock("TEE-1-S") == 0


def test_release_adds_up_several_lines_of_one_variant(store, tee):
    rma = RmaFactory(order=OrderFactory(store=store))
    for number in (1, 2):
        line = OrderLineFactory(
            order=rma.order, line_number=number, item_id="TEE-1-M", unit_price=Decimal("25.00")
        )
        exchange_reserve(
            rma_line=RmaLineFactory(rma=rma, order_line=line, quantity=1),
            variant=tee["S"],
            quantity=1,
        )
    assert stock("TEE-1-S") == 0

    exchange_release(rma=rma, reason="EXPIRED")

    assert stock("TEE-1-S") == 2


def test_release_of_an_rma_without_exchanges_does_nothing(rma_line):
    assert exchange_release(rma=rma_line.rma, reason="CANCELLED") == []


def test_replacement_release_writes_the_event_and_the_webhook(
    rma_line, tee, django_capture_on_commit_callbacks
):
    WebhookEndpointFactory(store=rma_line.rma.store)
    exchange_reserve(rma_line=rma_line, variant=tee["S"], quantity=2)
    rma = rma_line.rma
    rma.status = RmaStatus.RECEIVED

    with django_capture_on_commit_callbacks() as callbacks:
        released = exchange_release_replacement(rma=rma, actor=Actor.system("warehouse"))

    assert len(released) == 1
    event = RmaEvent.objects.get(rma=rma, type="rma.exchange_released")
    assert event.actor_label == "warehouse"
    assert event.data == {
        "currency": "USD",
        "lines": [
            {
                "line_number": 1,
                "returned_item_id": "TEE-1-M",
                "item_id": "TEE-1-S",
                "product_id": "TEE-1",
                "title": "Organic tee",
                "options": [
                    {"name": "Size", "value": "S"},
                    {"name": "Colour", "value": "Blue"},
                ],
                "quantity": 2,
                "unit_price": "19.00",
                "price_difference": "12.01",
            }
        ],
    }
    delivery = WebhookDelivery.objects.get(rma=rma)
    assert delivery.event == "rma.exchange_released"
    assert delivery.payload["data"] == event.data
    assert len(callbacks) == 1
    reservation = ExchangeReservation.objects.get()
    assert reservation.replacement_released_at is not None
    # The units left with the replacement: stock stays taken, and cannot come back.
    assert stock("TEE-1-S") == 0
    assert exchange_release(rma=rma, reason="CANCELLED") == []
    assert stock("TEE-1-S") == 0


def test_replacement_release_is_idempotent(rma_line, tee):
    exchange_reserve(rma_line=rma_line, variant=tee["S"], quantity=2)
    rma = rma_line.rma
    rma.status = RmaStatus.RECEIVED
    exchange_release_replacement(rma=rma, actor=Actor.system())

    assert exchange_release_replacement(rma=rma, actor=Actor.system()) == []
    assert RmaEvent.objects.filter(type="rma.exchange_released").count() == 1


def test_replacement_waits_for_receipt_unless_instant(rma_line, tee):
    exchange_reserve(rma_line=rma_line, variant=tee["S"], quantity=2)
    rma = rma_line.rma

    with pytest.raises(ValueError, match="cannot go yet"):
        exchange_release_replacement(rma=rma, actor=Actor.system())
    assert not RmaEvent.objects.filter(type="rma.exchange_released").exists()
    assert ExchangeReservation.objects.get().is_active

    rma.store.policy = {"exchange": {"instant": True}}
    rma.store.save()

    assert len(exchange_release_replacement(rma=rma, actor=Actor.system())) == 1


@pytest.mark.parametrize(
    ("status", "instant", "expected"),
    [
        (RmaStatus.REQUESTED, False, False),
        (RmaStatus.REQUESTED, True, False),
        (RmaStatus.AUTHORIZED, False, False),
        (RmaStatus.AUTHORIZED, True, True),
        (RmaStatus.RECEIVED, False, True),
        (RmaStatus.RESOLVED, False, True),
        (RmaStatus.CANCELLED, True, False),
        (RmaStatus.REJECTED, True, False),
        (RmaStatus.EXPIRED, True, False),
    ],
)
def test_when_the_replacement_may_be_released(status, instant, expected):
    assert replacement_may_be_released(status=status, instant=instant) is expected

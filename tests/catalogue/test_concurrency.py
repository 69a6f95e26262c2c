"""Shoppers racing for the last unit: one exchange, every other one RMA 1023.

Real transactions on PostgreSQL, one connection per thread (SQLite serialises writers,
which would prove nothing).
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from catalogue.models import ExchangeReservation, Variant
from catalogue.services import exchange_release, exchange_reserve
from rma.errors import RmaError
from rma.models import RmaLine
from tests.catalogue.factories import ProductFactory, VariantFactory
from tests.factories import OrderFactory, OrderLineFactory, RmaFactory, RmaLineFactory

SHOPPERS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_unit_left_one_exchange_and_clear_refusals():
    product = ProductFactory(product_id="TEE-1")
    VariantFactory(product=product, item_id="TEE-1-M", price=Decimal("25.00"), stock=10)
    last = VariantFactory(product=product, item_id="TEE-1-S", price=Decimal("19.00"), stock=1)
    rma_line_ids = []
    for _ in range(SHOPPERS):
        order = OrderFactory(store=product.store)
        line = OrderLineFactory(
            order=order, line_number=1, item_id="TEE-1-M", quantity=1, unit_price=Decimal("25.00")
        )
        rma = RmaFactory(order=order)
        rma_line_ids.append(RmaLineFactory(rma=rma, order_line=line, quantity=1).pk)

    start = threading.Barrier(SHOPPERS)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def shopper(rma_line_id: int):
        try:
            rma_line = RmaLine.objects.select_related("order_line__order__store").get(
                pk=rma_line_id
            )
            start.wait(timeout=30)
            with transaction.atomic():
                exchange_reserve(rma_line=rma_line, variant=last, quantity=1)
            outcomes.append("reserved")
        except RmaError as error:
            outcomes.append(f"{error.code}: {error.detail}")
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=shopper, args=(pk,)) for pk in rma_line_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert sorted(outcomes) == sorted(
        ["reserved"] + ["RMA 1023: line 1: out of stock (0 left, 1 wanted)"] * (SHOPPERS - 1)
    )
    assert Variant.objects.get(pk=last.pk).stock == 0
    reservation = ExchangeReservation.objects.get()
    assert reservation.price_difference == Decimal("6.00")

    # Its RMA is cancelled: the unit goes back to stock, once.
    exchange_release(rma=reservation.rma_line.rma, reason="CANCELLED")
    exchange_release(rma=reservation.rma_line.rma, reason="CANCELLED")

    assert Variant.objects.get(pk=last.pk).stock == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_releases_racing_give_the_stock_back_once():
    product = ProductFactory(product_id="TEE-1")
    VariantFactory(product=product, item_id="TEE-1-M", price=Decimal("25.00"), stock=0)
    wanted = VariantFactory(product=product, item_id="TEE-1-S", price=Decimal("19.00"), stock=2)
    order = OrderFactory(store=product.store)
    line = OrderLineFactory(order=order, line_number=1, item_id="TEE-1-M", quantity=2)
    rma_line = RmaLineFactory(rma=RmaFactory(order=order), order_line=line, quantity=2)
    exchange_reserve(rma_line=rma_line, variant=wanted, quantity=2)
    assert Variant.objects.get(pk=wanted.pk).stock == 0

    start = threading.Barrier(SHOPPERS)
    released: list[int] = []
    errors: list[BaseException] = []

    def release():
        try:
            start.wait(timeout=30)
            released.append(len(exchange_release(rma=rma_line.rma, reason="EXPIRED")))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=release) for _ in range(SHOPPERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert sorted(released) == [0] * (SHOPPERS - 1) + [1]
    assert Variant.objects.get(pk=wanted.pk).stock == 2

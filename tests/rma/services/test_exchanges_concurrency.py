"""Shoppers racing through the request service for the last unit of a variant: one RMA,
every other request RMA 1023 with nothing of it written; cancelling gives the unit back.

Real transactions on PostgreSQL, one connection per thread.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from catalogue.models import ExchangeReservation, Variant
from rma.errors import RmaError
from rma.models import Order, Rma, RmaLine
from rma.services.actors import Actor
from rma.services.rma_request import RequestedLine, rma_request
from rma.services.rma_status import rma_cancel
from tests.catalogue.factories import ProductFactory, VariantFactory
from tests.factories import OrderFactory, OrderLineFactory

SHOPPERS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_requests_racing_for_the_last_unit_make_one_rma():
    product = ProductFactory(product_id="TEE-1")
    VariantFactory(product=product, item_id="TEE-1-M", price=Decimal("25.00"), stock=10)
    last = VariantFactory(product=product, item_id="TEE-1-L", price=Decimal("25.00"), stock=1)
    order_ids = []
    for _ in range(SHOPPERS):
        order = OrderFactory(store=product.store)
        OrderLineFactory(
            order=order, line_number=1, item_id="TEE-1-M", quantity=1, unit_price=Decimal("25.00")
        )
        order_ids.append(order.pk)

    start = threading.Barrier(SHOPPERS)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def shopper(order_id: int):
        try:
            order = Order.objects.select_related("store").get(pk=order_id)
            start.wait(timeout=30)
            rma_request(
                order=order,
                lines=[RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-1-L")],
                resolution="EXCHANGE",
                actor=Actor.shopper(order.customer_email),
                channel="PORTAL",
            )
            outcomes.append("requested")
        except RmaError as error:
            outcomes.append(error.code)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=shopper, args=(pk,)) for pk in order_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert sorted(outcomes) == sorted(["requested"] + ["RMA 1023"] * (SHOPPERS - 1))
    # Nothing of the refused requests remains.
    assert Rma.objects.count() == RmaLine.objects.count() == 1
    assert ExchangeReservation.objects.count() == 1
    assert Variant.objects.get(pk=last.pk).stock == 0

    rma_cancel(rma=Rma.objects.get(), actor=Actor.system("test"))
    assert Variant.objects.get(pk=last.pk).stock == 1

"""The catalogue's database constraints hold even against writes that skip the services."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalogue.models import ExchangeReservation, Variant
from tests.catalogue.factories import ExchangeReservationFactory, ProductFactory, VariantFactory
from tests.factories import RmaLineFactory, StoreFactory

pytestmark = pytest.mark.django_db


def refused(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_stock_never_goes_below_zero():
    variant = VariantFactory(stock=1)

    refused(lambda: Variant.objects.filter(pk=variant.pk).update(stock=F("stock") - 2))
    refused(lambda: VariantFactory(stock=-1))

    variant.refresh_from_db()
    assert variant.stock == 1


def test_price_is_never_negative():
    refused(lambda: VariantFactory(price=Decimal("-0.01")))


def test_item_id_is_unique_per_store_across_products():
    store = StoreFactory()
    VariantFactory(product=ProductFactory(store=store), item_id="TEE-1-M")

    refused(lambda: VariantFactory(product=ProductFactory(store=store), item_id="TEE-1-M"))
    # Another store may use the same item id.
    VariantFactory(product=ProductFactory(), item_id="TEE-1-M")


def test_product_id_is_unique_per_store():
    store = StoreFactory()
    ProductFactory(store=store, product_id="TEE-1")

    refused(lambda: ProductFactory(store=store, product_id="TEE-1"))
    ProductFactory(product_id="TEE-1")


def test_options_keep_their_order():
    variant = VariantFactory(options=[["Zeta", "1"], ["Alpha", "2"]])
    variant.refresh_from_db()

    assert list(variant.options_dict) == ["Zeta", "Alpha"]
    assert variant.options_label == "Zeta: 1, Alpha: 2"


def test_one_reservation_per_rma_line():
    line = RmaLineFactory()
    ExchangeReservationFactory(rma_line=line)

    refused(lambda: ExchangeReservationFactory(rma_line=line))


def test_a_released_reservation_needs_a_known_reason():
    line = RmaLineFactory()

    refused(lambda: ExchangeReservationFactory(rma_line=line, released_at=timezone.now()))
    refused(
        lambda: ExchangeReservationFactory(
            rma_line=line, released_at=timezone.now(), released_reason="LOST"
        )
    )
    refused(lambda: ExchangeReservationFactory(rma_line=line, released_reason="CANCELLED"))
    ExchangeReservationFactory(
        rma_line=line, released_at=timezone.now(), released_reason="CANCELLED"
    )


def test_stock_cannot_come_back_after_the_replacement_left():
    now = timezone.now()

    refused(
        lambda: ExchangeReservationFactory(
            rma_line=RmaLineFactory(),
            released_at=now,
            released_reason="EXPIRED",
            replacement_released_at=now,
        )
    )


def test_a_variant_an_exchange_refers_to_cannot_be_deleted():
    reservation = ExchangeReservationFactory(rma_line=RmaLineFactory())

    with pytest.raises(Exception, match="protected"), transaction.atomic():
        reservation.variant.delete()
    assert ExchangeReservation.objects.get().variant_id == reservation.variant_id

"""factory_boy factories and import-format builders for the catalogue.

Kept beside the catalogue tests, their only users.
"""

from decimal import Decimal

import factory

from catalogue.models import ExchangeReservation, Product, Variant
from tests.factories import StoreFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    store = factory.SubFactory(StoreFactory)
    product_id = factory.Sequence(lambda n: f"PROD-{n:04d}")
    title = factory.LazyAttribute(lambda o: f"Product {o.product_id}")
    image_url = "https://cdn.example/product.jpg"


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    store = factory.LazyAttribute(lambda o: o.product.store)
    item_id = factory.Sequence(lambda n: f"VAR-{n:05d}")
    options = factory.LazyFunction(lambda: [["Size", "M"], ["Colour", "Blue"]])
    position = factory.Sequence(lambda n: n)
    price = Decimal("25.00")
    stock = 4


class ExchangeReservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeReservation

    variant = factory.SubFactory(VariantFactory)
    quantity = 1
    unit_price = factory.LazyAttribute(lambda o: o.variant.price)
    price_difference = Decimal("0.00")


def variant_data(item_id: str = "TEE-1-M-BLU", **overrides) -> dict:
    """One variant of the import format (the documented example by default)."""
    return {
        "item_id": item_id,
        "options": {"Size": "M", "Colour": "Blue"},
        "price": "25.00",
        "stock": 4,
        "image_url": None,
        **overrides,
    }


def product_data(product_id: str = "TEE-1", variants=None, **overrides) -> dict:
    """One product of the import format (the documented example by default)."""
    return {
        "product_id": product_id,
        "title": "Organic tee",
        "image_url": "https://cdn.example/tee.jpg",
        "variants": variants if variants is not None else [variant_data()],
        **overrides,
    }


def tee_variants() -> list[dict]:
    """The tee in three variants: M blue, L blue (out of stock), S green (cheaper)."""
    return [
        variant_data("TEE-1-M-BLU"),
        variant_data("TEE-1-L-BLU", options={"Size": "L", "Colour": "Blue"}, stock=0),
        variant_data(
            "TEE-1-S-GRN",
            options={"Size": "S", "Colour": "Green"},
            price="19.00",
            stock=2,
            image_url="https://cdn.example/tee-green.jpg",
        ),
    ]

"""The pure exchange rules: every refusal, the amount paid per unit, the difference."""

from decimal import Decimal

import pytest

from catalogue.models import Variant
from catalogue.rules import amount_paid_per_unit, exchange_refusal, price_difference
from rma.models import OrderLine


def variant(**fields) -> Variant:
    values = {"item_id": "TEE-1-L", "product_id": 1, "price": Decimal("25.00"), "stock": 3}
    return Variant(**{**values, **fields})


def refusal(wanted, *, quantity=1, paid="25.00", allow_other_products=False, product=1):
    return exchange_refusal(
        ordered_item_id="TEE-1-M",
        ordered_product_id=product,
        variant=wanted,
        quantity=quantity,
        paid_per_unit=Decimal(paid),
        allow_other_products=allow_other_products,
    )


CASES = {
    "another variant, in stock, same price": (variant(), {}, ""),
    "cheaper": (variant(price=Decimal("19.00")), {}, ""),
    "unknown": (None, {}, "the item is not in the store's catalogue"),
    "the item ordered": (
        variant(item_id="TEE-1-M"),
        {},
        "the item is the one ordered: pick another variant",
    ),
    "another product": (
        variant(product_id=2),
        {},
        "the item is another product: the store exchanges for variants of the same product",
    ),
    "another product, allowed": (variant(product_id=2), {"allow_other_products": True}, ""),
    "ordered item not in the catalogue": (
        variant(product_id=2),
        {"product": None},
        "the item ordered is not in the store's catalogue, so it has no variants",
    ),
    "out of stock": (variant(stock=0), {}, "out of stock (0 left, 1 wanted)"),
    "not enough stock": (variant(stock=1), {"quantity": 2}, "out of stock (1 left, 2 wanted)"),
    "dearer": (
        variant(price=Decimal("25.01")),
        {},
        "the item costs 25.01, more than the 25.00 paid per unit",
    ),
    "dearer than paid after a discount": (
        variant(),
        {"paid": "22.50"},
        "the item costs 25.00, more than the 22.50 paid per unit",
    ),
    "dearer, another product, allowed": (
        variant(product_id=2, price=Decimal("30.00")),
        {"allow_other_products": True},
        "the item costs 30.00, more than the 25.00 paid per unit",
    ),
}


@pytest.mark.parametrize(("wanted", "options", "expected"), CASES.values(), ids=CASES.keys())
def test_exchange_refusal(wanted, options, expected):
    assert refusal(wanted, **options) == expected


@pytest.mark.parametrize(
    ("unit_price", "quantity", "discount", "tax", "currency", "expected"),
    [
        ("25.00", 1, "0", "0", "USD", "25.00"),
        ("25.00", 2, "5.00", "4.00", "USD", "24.50"),
        ("10.00", 2, "0", "0.00", "USD", "10.00"),
        # 20.00 / 3 = 6.666... rounded half up.
        ("6.00", 3, "0", "2.00", "USD", "6.67"),
        ("500", 2, "0", "1", "JPY", "501"),
    ],
)
def test_amount_paid_per_unit(unit_price, quantity, discount, tax, currency, expected):
    line = OrderLine(
        unit_price=Decimal(unit_price),
        quantity=quantity,
        discount=Decimal(discount),
        tax=Decimal(tax),
    )

    assert amount_paid_per_unit(line, currency=currency) == Decimal(expected)


def test_price_difference_is_what_was_paid_less_the_new_price_never_negative():
    paid = [Decimal("25.00"), Decimal("25.01")]

    assert price_difference(amounts_paid=paid, price=Decimal("19.00"), currency="USD") == Decimal(
        "12.01"
    )
    assert price_difference(amounts_paid=paid, price=Decimal("25.00"), currency="USD") == Decimal(
        "0.01"
    )
    assert price_difference(amounts_paid=paid, price=Decimal("26.00"), currency="USD") == Decimal(
        "0.00"
    )

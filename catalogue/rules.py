"""The exchange rules, as pure functions over rows already fetched (no queries).

A returned order line may be exchanged for another variant of the same product (or,
when the store's policy `exchange.allow_other_products` is true, for a variant of any
product) that has the stock and costs no more than the shopper paid per unit. A
cheaper variant refunds the difference.
"""

from __future__ import annotations

from decimal import Decimal

from payments import money

from .models import Variant


def amount_paid_per_unit(line, *, currency: str) -> Decimal:
    """What one unit of the order line cost the shopper: (price * quantity - discount + tax)
    / quantity, rounded half up to the currency's minor unit."""
    total = money.line_amount_paid(
        unit_price=line.unit_price,
        quantity=line.quantity,
        discount=line.discount,
        tax=line.tax,
        currency=currency,
    )
    return money.quantize(total / line.quantity, currency)


def exchange_refusal(
    *,
    ordered_item_id: str,
    ordered_product_id: int | None,
    variant: Variant | None,
    quantity: int,
    paid_per_unit: Decimal,
    allow_other_products: bool,
) -> str:
    """Why exchanging `quantity` units for `variant` is refused, in words; "" when allowed.

    `ordered_product_id`: the product that has a variant with the order line's item id
    (None when the catalogue does not have it). Every refusal is RMA 1023.
    """
    if variant is None:
        return "the item is not in the store's catalogue"
    if variant.item_id == ordered_item_id:
        return "the item is the one ordered: pick another variant"
    if variant.product_id != ordered_product_id and not allow_other_products:
        if ordered_product_id is None:
            return "the item ordered is not in the store's catalogue, so it has no variants"
        return "the item is another product: the store exchanges for variants of the same product"
    if variant.stock < quantity:
        return f"out of stock ({variant.stock} left, {quantity} wanted)"
    if variant.price > paid_per_unit:
        return f"the item costs {variant.price}, more than the {paid_per_unit} paid per unit"
    return ""


def price_difference(*, amounts_paid: list[Decimal], price: Decimal, currency: str) -> Decimal:
    """What goes back to the shopper when the units returned (`amounts_paid`, one amount
    per unit) are exchanged for units at `price`: never below zero."""
    difference = sum(amounts_paid, money.zero(currency)) - price * len(amounts_paid)
    return max(money.quantize(difference, currency), money.zero(currency))

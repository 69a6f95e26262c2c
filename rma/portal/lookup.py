"""Finding a shopper's order from an order number and an email address or postcode.

A wrong pair and an unknown order must be indistinguishable: same message, same status
and the same work. So every lookup runs the same query and compares the contact against
at least one candidate (a placeholder when no order has the number), with constant-time
comparisons of both the email and the postcode, never short-circuiting.
"""

from __future__ import annotations

import hmac

from rma.models import Order
from rma.selectors import orders_matching_number

# Compared against when no order has the number, so unknown numbers cost the same work.
_PLACEHOLDER = Order(customer_email="placeholder@invalid", shipping_address={"postal_code": "-"})


def normalised_email(value: str) -> bytes:
    return value.strip().casefold().encode()


def normalised_postcode(value: str) -> bytes:
    return "".join(value.split()).upper().encode()


def contact_matches(order: Order, contact: str) -> bool:
    """The contact is the order's email (case-insensitive) or postcode (case and spaces ignored)."""
    postcode = normalised_postcode((order.shipping_address or {}).get("postal_code") or "")
    email_matches = hmac.compare_digest(
        normalised_email(contact), normalised_email(order.customer_email)
    )
    # An order without a postcode must not match an input that normalises to nothing.
    postcode_matches = hmac.compare_digest(normalised_postcode(contact), postcode or b"\0")
    return email_matches | postcode_matches


def orders_for_lookup(*, order_number: str, contact: str) -> list[Order]:
    """Orders (of any store) with this number whose email or postcode is `contact`."""
    candidates = list(orders_matching_number(order_number))
    matches = [order for order in candidates or [_PLACEHOLDER] if contact_matches(order, contact)]
    return [order for order in matches if order.pk is not None]

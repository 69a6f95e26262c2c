"""Exchanges: check a variant for an order line, reserve its stock, give it back, and
release the replacement order.

The calls an RMA takes, in order (see docs/catalogue.md):

1. on request, per line exchanged: `exchange_check` (RMA 1023 when not available), then,
   once the RMA line exists and in the same transaction, `exchange_reserve`, which
   takes the stock under the variant's row lock and checks again;
2. on cancel, reject or expiry: `exchange_release` gives the stock back (idempotent);
3. on receipt (or at authorization when policy `exchange.instant` is true):
   `exchange_release_replacement` marks the replacement released and writes the
   `rma.exchange_released` event and webhook.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from payments import money
from rma.errors import LineFailure, RmaError
from rma.models import OrderLine, Rma, RmaLine, RmaStatus
from rma.policy import StorePolicy
from rma.services.actors import Actor
from rma.services.events import record_event

from .models import ExchangeReservation, ReleaseReason, Variant
from .rules import amount_paid_per_unit, exchange_refusal, price_difference
from .selectors import allow_other_products

EXCHANGE_NOT_AVAILABLE = "RMA 1023"
EXCHANGE_RELEASED_EVENT = "rma.exchange_released"


@dataclass(frozen=True)
class ExchangeQuote:
    """An exchange that the rules allow: the variant, and what goes back to the shopper."""

    order_line: OrderLine
    variant: Variant
    quantity: int
    # What the shopper paid for the units returned, and the variant's price for as many.
    amount_paid: Decimal
    price_difference: Decimal


def exchange_check(
    *, order_line: OrderLine, item_id: str, quantity: int, already_returned: int = 0
) -> ExchangeQuote:
    """Check exchanging `quantity` units of `order_line` for the variant `item_id`.

    Raises `RmaError` RMA 1023 (its `detail` says why: unknown item, another product when
    the policy does not allow it, out of stock, dearer than paid per unit). One query
    (the two variants), plus the order and store when not loaded with the line.
    `already_returned`: units of the line returned by earlier RMAs, so that the amount
    paid for these units carries the line's rounding remainder the right way.
    """
    store = order_line.order.store
    found = {
        variant.item_id: variant
        for variant in Variant.objects.filter(
            store=store, item_id__in={item_id, order_line.item_id}
        ).select_related("product")
    }
    return _quote(
        order_line=order_line,
        variant=found.get(item_id),
        ordered=found.get(order_line.item_id),
        quantity=quantity,
        already_returned=already_returned,
    )


def _quote(
    *,
    order_line: OrderLine,
    variant: Variant | None,
    ordered: Variant | None,
    quantity: int,
    already_returned: int,
) -> ExchangeQuote:
    store = order_line.order.store
    refusal = exchange_refusal(
        ordered_item_id=order_line.item_id,
        ordered_product_id=ordered.product_id if ordered else None,
        variant=variant,
        quantity=quantity,
        paid_per_unit=amount_paid_per_unit(order_line, currency=store.currency),
        allow_other_products=allow_other_products(store),
    )
    if refusal:
        raise RmaError(
            EXCHANGE_NOT_AVAILABLE,
            items=[LineFailure(order_line.line_number, EXCHANGE_NOT_AVAILABLE)],
            detail=f"line {order_line.line_number}: {refusal}",
        )
    amounts = money.order_line_amounts(
        order_line, currency=store.currency, units=quantity, already_returned=already_returned
    )
    return ExchangeQuote(
        order_line=order_line,
        variant=variant,
        quantity=quantity,
        amount_paid=sum(amounts, money.zero(store.currency)),
        price_difference=price_difference(
            amounts_paid=amounts, price=variant.price, currency=store.currency
        ),
    )


@transaction.atomic
def exchange_reserve(
    *, rma_line: RmaLine, variant: Variant, quantity: int, already_returned: int = 0
) -> ExchangeReservation:
    """Take `quantity` units of `variant`'s stock for `rma_line`, and record the exchange.

    Locks the variant's row (`SELECT ... FOR UPDATE`) and checks again under the lock, so
    of two shoppers racing for the last unit one gets it and the other RMA 1023. Call it
    inside the request's transaction: a refusal then undoes the whole request. The
    price difference of a cheaper variant is computed and stored.
    """
    if not 1 <= quantity <= rma_line.quantity:
        raise ValueError(f"cannot exchange {quantity} of {rma_line.quantity} returned unit(s)")
    order_line = rma_line.order_line
    store = order_line.order.store
    locked = (
        Variant.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(pk=variant.pk, store=store)
        .first()
    )
    ordered = (
        Variant.objects.filter(store=store, item_id=order_line.item_id)
        .only("pk", "product_id", "item_id")
        .first()
    )
    quote = _quote(
        order_line=order_line,
        variant=locked,
        ordered=ordered,
        quantity=quantity,
        already_returned=already_returned,
    )
    Variant.objects.filter(pk=locked.pk).update(
        stock=F("stock") - quantity, updated_at=timezone.now()
    )
    locked.stock -= quantity
    return ExchangeReservation.objects.create(
        rma_line=rma_line,
        variant=locked,
        quantity=quantity,
        unit_price=locked.price,
        price_difference=quote.price_difference,
    )


def _active_reservations(rma: Rma):
    return ExchangeReservation.objects.filter(
        rma_line__rma=rma, released_at__isnull=True, replacement_released_at__isnull=True
    )


@transaction.atomic
def exchange_release(*, rma: Rma, reason: str) -> list[ExchangeReservation]:
    """Give back the stock the RMA's exchanges hold: it was cancelled, rejected or expired.

    Idempotent: released reservations are left as they are, so a second call (a
    redelivered task, a retried transition) returns nothing and changes nothing. A
    replacement already released (shipped) is not given back. Returns the reservations
    released now.
    """
    reason = ReleaseReason(reason)
    reservations = list(
        _active_reservations(rma).select_for_update(of=("self",)).order_by("variant_id", "pk")
    )
    if not reservations:
        return []
    now = timezone.now()
    units = Counter()
    for reservation in reservations:
        units[reservation.variant_id] += reservation.quantity
        reservation.released_at, reservation.released_reason = now, reason
    # In the order of the variants' keys, as every writer of stock locks them.
    for variant_id in sorted(units):
        Variant.objects.filter(pk=variant_id).update(
            stock=F("stock") + units[variant_id], updated_at=now
        )
    ExchangeReservation.objects.bulk_update(reservations, ["released_at", "released_reason"])
    return reservations


def replacement_may_be_released(*, status: str, instant: bool) -> bool:
    """The replacement goes once the return is received, or at authorization when the
    store's policy `exchange.instant` is true."""
    if status in (RmaStatus.RECEIVED, RmaStatus.RESOLVED):
        return True
    return instant and status == RmaStatus.AUTHORIZED


@transaction.atomic
def exchange_release_replacement(*, rma: Rma, actor: Actor) -> list[ExchangeReservation]:
    """Release the replacement order of the RMA's exchanges to the store.

    Marks the active reservations released to the shopper (their units are gone for
    good) and writes the `rma.exchange_released` event, whose webhook carries the
    replacement lines. Idempotent: nothing is written when no exchange is waiting.
    Raises `ValueError` when the RMA is not received (nor authorized with policy
    `exchange.instant`).
    """
    if not replacement_may_be_released(
        status=rma.status, instant=StorePolicy.of(rma.store).exchange.instant
    ):
        raise ValueError(f"RMA {rma.rma_number} is {rma.status}: its replacement cannot go yet")
    reservations = list(
        _active_reservations(rma)
        .select_for_update(of=("self",))
        .select_related("variant__product", "rma_line__order_line")
        .order_by("rma_line__order_line__line_number", "pk")
    )
    if not reservations:
        return []
    now = timezone.now()
    for reservation in reservations:
        reservation.replacement_released_at = now
    ExchangeReservation.objects.bulk_update(reservations, ["replacement_released_at"])
    currency = rma.store.currency
    record_event(
        rma=rma,
        type=EXCHANGE_RELEASED_EVENT,
        actor=actor,
        data={
            "currency": currency,
            "lines": [replacement_line(reservation, currency) for reservation in reservations],
        },
    )
    return reservations


def replacement_line(reservation: ExchangeReservation, currency: str) -> dict:
    """One line of the replacement order, as the event and webhook carry it."""
    variant = reservation.variant
    return {
        "line_number": reservation.rma_line.order_line.line_number,
        "returned_item_id": reservation.rma_line.order_line.item_id,
        "item_id": variant.item_id,
        "product_id": variant.product.product_id,
        "title": variant.product.title,
        # A list, so that the store's order of the options survives JSON storage.
        "options": [{"name": name, "value": value} for name, value in variant.options],
        "quantity": reservation.quantity,
        "unit_price": money.as_string(reservation.unit_price, currency),
        "price_difference": money.as_string(reservation.price_difference, currency),
    }

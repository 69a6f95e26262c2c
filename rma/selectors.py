"""Reads: each selector fetches what one screen or operation needs in a fixed number of queries."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce, Upper

from .models import EligibilityOverride, Order, OrderLine, Rma, RmaLine, RmaStatus
from .numbers import normalise_rma_number

# RMAs in these states hold their requested quantity; RESOLVED ones hold what was received.
HOLDING_STATUSES = (RmaStatus.REQUESTED, RmaStatus.AUTHORIZED, RmaStatus.RECEIVED)
RELEASED_STATUSES = (RmaStatus.REJECTED, RmaStatus.CANCELLED, RmaStatus.EXPIRED)


def held_quantity_expression(prefix: str = "rma_lines__"):
    """Sum of the quantity this line's RMAs hold (SPEC section 4, rule 1007)."""
    return Coalesce(
        Sum(
            Case(
                When(
                    **{f"{prefix}rma__status__in": HOLDING_STATUSES},
                    then=f"{prefix}quantity",
                ),
                When(
                    **{f"{prefix}rma__status": RmaStatus.RESOLVED},
                    then=Coalesce(f"{prefix}received_quantity", 0),
                ),
                default=0,
                output_field=IntegerField(),
            )
        ),
        0,
    )


def order_lines_for_eligibility() -> QuerySet[OrderLine]:
    return (
        OrderLine.objects.select_related("supplier")
        .annotate(held_quantity=held_quantity_expression())
        .order_by("line_number")
        .prefetch_related(
            Prefetch(
                "overrides",
                queryset=EligibilityOverride.objects.order_by("-created_at"),
                to_attr="all_overrides",
            )
        )
    )


def orders_for_eligibility() -> QuerySet[Order]:
    """Orders with the store, lines, held quantities and overrides: three queries in all."""
    return Order.objects.select_related("store").prefetch_related(
        Prefetch("lines", queryset=order_lines_for_eligibility())
    )


def order_for_eligibility(*, store, order_id: str) -> Order | None:
    """One store's order by its number, ready for `eligibility.evaluate_order`."""
    return orders_for_eligibility().filter(store=store, order_id=order_id).first()


def orders_matching_number(order_number: str) -> QuerySet[Order]:
    """Orders of any store whose number matches, trimmed and ignoring letter case."""
    return (
        Order.objects.select_related("store")
        .annotate(order_id_upper=Upper("order_id"))
        .filter(order_id_upper=order_number.strip().upper())
    )


def held_quantities(line_ids) -> dict[int, int]:
    """Held quantity per order line id, read afresh (used under row locks)."""
    rows = (
        OrderLine.objects.filter(pk__in=line_ids)
        .annotate(held_quantity=held_quantity_expression())
        .values_list("pk", "held_quantity")
    )
    return dict(rows)


def rmas_with_lines() -> QuerySet[Rma]:
    return Rma.objects.select_related("store", "order", "supplier").prefetch_related(
        Prefetch("lines", queryset=rma_lines_queryset())
    )


def rma_lines_queryset() -> QuerySet[RmaLine]:
    return RmaLine.objects.select_related("order_line").order_by("order_line__line_number")


def rma_by_number(rma_number: str) -> Rma | None:
    """An RMA by its number as typed (separators and case ignored, check character verified)."""
    canonical = normalise_rma_number(rma_number)
    if canonical is None:
        return None
    return rmas_with_lines().filter(rma_number=canonical).first()


def active_rmas_q() -> Q:
    return ~Q(status__in=RELEASED_STATUSES)

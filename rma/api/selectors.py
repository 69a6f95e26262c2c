"""Reads of the RMA service API, each a fixed number of queries whatever the line count."""

from __future__ import annotations

from django.db.models import QuerySet

from rma.models import ApiTransaction, Order, Rma, Store
from rma.selectors import rmas_with_lines


def order_of_store(*, store: Store, order_id: str) -> Order | None:
    """The store's order by its exact number (one query; the store is attached, not fetched)."""
    order = Order.objects.filter(store=store, order_id=order_id).first()
    if order is not None:
        order.store = store
    return order


def rmas_for_response(*, order: Order) -> QuerySet[Rma]:
    """An order's RMAs, oldest first, with lines, order lines and supplier: two queries."""
    return rmas_with_lines().filter(order=order).order_by("created_at", "id")


def api_transaction(*, store: Store, transaction_id: str) -> ApiTransaction | None:
    return ApiTransaction.objects.filter(store=store, transaction_id=transaction_id).first()

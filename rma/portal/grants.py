"""Which orders this browser session may see: granted by a successful lookup only."""

from __future__ import annotations

from django.http import Http404

from rma.models import Order
from rma.selectors import order_for_eligibility_by_store_code

ORDERS_KEY = "portal.orders"
LAST_LOOKUP_KEY = "portal.last-lookup"
# A session remembers a few orders so a shopper can go back and forth between them.
MAX_GRANTED_ORDERS = 20


def grant_orders(request, orders: list[Order]) -> None:
    """Let this session see `orders` (after a matching lookup), on a fresh session key."""
    new = [order.pk for order in orders]
    earlier = [pk for pk in request.session.get(ORDERS_KEY, []) if pk not in new]
    request.session.cycle_key()
    request.session[ORDERS_KEY] = (earlier + new)[-MAX_GRANTED_ORDERS:]
    request.session[LAST_LOOKUP_KEY] = new


def granted_order_ids(request) -> list[int]:
    return list(request.session.get(ORDERS_KEY, []))


def last_lookup_order_ids(request) -> list[int]:
    granted = set(granted_order_ids(request))
    return [pk for pk in request.session.get(LAST_LOOKUP_KEY, []) if pk in granted]


def granted_order_or_404(request, *, store_code: str, order_id: str) -> Order:
    """The order, ready for eligibility, if this session was granted it; else 404."""
    order = order_for_eligibility_by_store_code(
        store_code=store_code, order_id=order_id, among=granted_order_ids(request)
    )
    if order is None:
        raise Http404
    return order

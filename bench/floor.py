"""Floor views: the limit of the stack for the endpoints the bench measures.

Each reads the rows its real endpoint reads (the order with its store and its lines), in
as few queries, and returns them as minimal JSON or HTML: what is left is Django's
request cycle, the middleware, the ORM and PostgreSQL. A real endpoint's ratio to its
floor is what its own work costs (eligibility, forms, templates, serializers, auth).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from rma.models import Order

# Compiled once per process, like the real templates (cached loader with DEBUG off).
PAGE = engines["django"].from_string(
    "<!doctype html><html lang=en><title>Order {{ order.order_id }}</title>"
    "<h1>{{ order.store.name }} order {{ order.order_id }}</h1><ul>"
    "{% for line in lines %}<li data-line-number={{ line.line_number }}>"
    "{{ line.title }} ({{ line.item_id }}) &times; {{ line.quantity }}</li>{% endfor %}</ul>"
)


def _order_with_lines(store_code: str, order_id: str, *, for_update: bool = False):
    """The order and its store (one query), its lines (one query)."""
    orders = Order.objects.select_related("store")
    if for_update:
        orders = orders.select_for_update(of=("self",))
    order = get_object_or_404(orders, store__code=store_code, order_id=order_id)
    return order, list(order.lines.order_by("line_number"))


def _lines_json(lines) -> list[dict]:
    return [
        {
            "lineNumber": line.line_number,
            "itemId": line.item_id,
            "orderedQuantity": line.quantity,
        }
        for line in lines
    ]


@require_GET
def order_json(request, store_code: str, order_id: str):
    """Floor of checkEligibility: the order's lines as JSON (2 queries)."""
    order, lines = _order_with_lines(store_code, order_id)
    return JsonResponse(
        {"orderId": order.order_id, "store": order.store.code, "items": _lines_json(lines)}
    )


@require_GET
def order_html(request, store_code: str, order_id: str):
    """Floor of the portal order page: the order's lines as a minimal HTML page (2 queries)."""
    order, lines = _order_with_lines(store_code, order_id)
    return HttpResponse(PAGE.render({"order": order, "lines": lines}, request))


@csrf_exempt
@require_POST
def order_write(request, store_code: str, order_id: str):
    """Floor of generateRMA: lock the order, read its lines, write one row, commit (4 queries)."""
    with transaction.atomic():
        order, lines = _order_with_lines(store_code, order_id, for_update=True)
        Order.objects.filter(pk=order.pk).update(updated_at=timezone.now())
    return JsonResponse(
        {"orderId": order.order_id, "store": order.store.code, "items": _lines_json(lines)},
        status=201,
    )

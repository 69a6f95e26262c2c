"""Bare floor views: one SQL statement for the order and its lines, the response by hand.

`order_json` is the floor of checkEligibility, `order_html` of the portal order page,
`order_write` of generateRMA (the order locked with its lines, one row written, commit).
"""

from __future__ import annotations

import json
from html import escape

from django.db import connection, transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect

ORDER_WITH_LINES = """
    SELECT o.id, o.order_id, s.code, s.name, l.line_number, l.item_id, l.title, l.quantity
    FROM rma_order o
    JOIN rma_store s ON s.id = o.store_id
    LEFT JOIN rma_orderline l ON l.order_id = o.id
    WHERE s.code = %s AND o.order_id = %s
    ORDER BY l.line_number
"""


def _rows(store_code: str, order_id: str, *, for_update: bool = False) -> list[tuple]:
    statement = ORDER_WITH_LINES + (" FOR UPDATE OF o" if for_update else "")
    with connection.cursor() as cursor:
        cursor.execute(statement, [store_code, order_id])
        rows = cursor.fetchall()
    if not rows:
        raise Http404
    return rows


def _json(rows: list[tuple], status: int = 200) -> HttpResponse:
    body = {
        "orderId": rows[0][1],
        "store": rows[0][2],
        "items": [
            {"lineNumber": row[4], "itemId": row[5], "orderedQuantity": row[7]}
            for row in rows
            if row[4] is not None
        ],
    }
    return HttpResponse(json.dumps(body), content_type="application/json", status=status)


def order_json(request, store_code: str, order_id: str):
    if request.method != "GET":
        return HttpResponse(status=405)
    return _json(_rows(store_code, order_id))


def order_html(request, store_code: str, order_id: str):
    if request.method != "GET":
        return HttpResponse(status=405)
    rows = _rows(store_code, order_id)
    order_number, store_name = escape(rows[0][1]), escape(rows[0][3])
    items = "".join(
        f"<li data-line-number={row[4]}>{escape(row[6])} ({escape(row[5])}) &times; {row[7]}</li>"
        for row in rows
        if row[4] is not None
    )
    return HttpResponse(
        f"<!doctype html><html lang=en><title>Order {order_number}</title>"
        f"<h1>{store_name} order {order_number}</h1><ul>{items}</ul>"
    )


def order_write(request, store_code: str, order_id: str):
    if request.method != "POST":
        return HttpResponse(status=405)
    with transaction.atomic():
        rows = _rows(store_code, order_id, for_update=True)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE rma_order SET updated_at = now() WHERE id = %s", [rows[0][0]])
    return _json(rows, status=201)


LOOKUP = """
    SELECT s.code, o.order_id
    FROM rma_order o
    JOIN rma_store s ON s.id = o.store_id
    WHERE upper(o.order_id) = upper(%s) AND lower(o.customer_email) = lower(%s)
"""


def lookup(request):
    """Floor of the portal's lookup: the order by number (any case) and email, one
    statement, a redirect to its page (no CSRF, no session, no rate limit)."""
    if request.method != "POST":
        return HttpResponse(status=405)
    with connection.cursor() as cursor:
        cursor.execute(
            LOOKUP,
            [request.POST.get("order_number", "").strip(), request.POST.get("contact", "")],
        )
        row = cursor.fetchone()
    if row is None:
        return HttpResponse("<!doctype html><title>Find your order</title><p>Not found")
    return HttpResponseRedirect(f"/order/{row[0]}/{row[1]}/")

"""An order back in the import format (docs/import-format.md): what the HTTP endpoint answers."""

from __future__ import annotations

from decimal import Decimal

from rma.models import Order


def _timestamp(value) -> str | None:
    return value.isoformat() if value else None


def _decimal(value: Decimal) -> str:
    # Dimensions are stored with three places; "1.2" reads better than "1.200".
    return format(value.normalize(), "f")


def order_document(order: Order) -> dict:
    """One order object of the import format; `order.lines` may be prefetched with suppliers."""
    return {
        "store": order.store.code,
        "order_id": order.order_id,
        "status": order.status,
        "placed_at": _timestamp(order.placed_at),
        "shipped_at": _timestamp(order.shipped_at),
        "delivered_at": _timestamp(order.delivered_at),
        "customer": {
            "email": order.customer_email,
            "name": order.customer_name,
            **({"tags": list(order.customer_tags)} if order.customer_tags else {}),
        },
        "shipping_address": order.shipping_address,
        "lines": [
            {
                "line_number": line.line_number,
                "item_id": line.item_id,
                "title": line.title,
                "department": line.department,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "weight": _decimal(line.weight),
                "length": _decimal(line.length),
                "width": _decimal(line.width),
                "height": _decimal(line.height),
                "hazmat": line.hazmat,
                "final_sale": line.final_sale,
                "delivered_at": _timestamp(line.delivered_at),
                "supplier": line.supplier.code if line.supplier else None,
                "image_url": line.image_url,
                "discount": str(line.discount),
                "tax": str(line.tax),
            }
            for line in order.lines.all()
        ],
        **(
            {
                "payment": {
                    "provider": order.payment_provider,
                    "payment_intent": order.payment_intent,
                }
            }
            if order.payment_provider
            else {}
        ),
    }

"""The bench's data, written in bulk by PostgreSQL itself (INSERT … SELECT generate_series).

One store (`BENCH`, the default policy with a few exclusions) owns every order:

- `LINES-1`, `LINES-10`, `LINES-100`: orders with that many lines, for the per-line
  measurements (every tenth line is final sale, so pages show both kinds of line);
- `GEN-000001` …: one-line orders, one per generateRMA request, so each request succeeds;
- `BN0000001` …: plain one-line orders filling the table up to the lookup dataset size
  (1,000, then 1,000,000 in a copy of the database).

Every order is delivered three days ago and shipped to a US address, so its lines are
eligible; order `BN<n>` belongs to `shopper<n>@example.com`.
"""

from __future__ import annotations

import datetime as dt
import json

import psycopg
from psycopg import sql

STORE_CODE = "BENCH"
LINE_COUNTS = (1, 10, 100)

# The defaults (docs/import-format.md) and a few exclusions, so every rule has something to check.
POLICY = {
    "excluded_departments": ["Gift Cards"],
    "excluded_items": ["GC-50"],
    "excluded_states": ["HI", "AK"],
    "allowed_countries": ["US"],
}
RETURN_ADDRESS = {"name": "Bench Returns", "line1": "2 Dock Road", "city": "Reno"}
RETURN_ADDRESS |= {"state": "NV", "postal_code": "89501", "country": "US"}

# Columns every generated order and line shares; `i` is the generate_series value.
ORDER_INSERT = """
    INSERT INTO rma_order (store_id, order_id, status, placed_at, shipped_at, delivered_at,
                           customer_email, customer_name, shipping_address,
                           payment_provider, payment_intent, created_at, updated_at
                           {extra_columns})
    SELECT {store}, {order_id}, 'DELIVERED', now() - interval '6 days',
           now() - interval '5 days', now() - interval '3 days',
           'shopper' || i || '@example.com', 'Shopper ' || i,
           jsonb_build_object('line1', i || ' Elm St', 'line2', '', 'city', 'Philadelphia',
                              'state', 'PA', 'postal_code', lpad((i % 100000)::text, 5, '0'),
                              'country', 'US'),
           '', '', now(), now() {extra_values}
    FROM generate_series({first}, {last}) AS i
    RETURNING id
"""
LINES_INSERT = """
    WITH orders AS ({orders})
    INSERT INTO rma_orderline (order_id, line_number, item_id, title, department, quantity,
                               unit_price, weight, length, width, height, hazmat, final_sale,
                               image_url, discount, tax {extra_columns})
    SELECT orders.id, n, 'SKU-' || n, 'Bench item ' || n, 'Accessories', 2,
           19.99 + n, 1.2, 16, 12, 2, false, n % 10 = 0, '', 0, 0 {extra_values}
    FROM orders, generate_series(1, {lines}) AS n
"""


def per_line_order_id(lines: int) -> str:
    return f"LINES-{lines}"


def generate_order_id(index: int) -> str:
    return f"GEN-{index:06d}"


def lookup_order_id(index: int) -> str:
    return f"BN{index:07d}"


def lookup_email(index: int) -> str:
    return f"shopper{index}@example.com"


def _literal(value) -> sql.Composable:
    if isinstance(value, dt.datetime):
        return sql.SQL("now()")
    if isinstance(value, dict | list):
        return sql.SQL("{}::jsonb").format(sql.Literal(json.dumps(value)))
    return sql.Literal(value)


def _other_columns(model_label: str, written: str) -> dict[str, sql.Composable]:
    """Columns the statements above do not write that must not be NULL: their model
    defaults, so a field added to the models later does not break the bench."""
    from django.apps import apps
    from django.db.models import NOT_PROVIDED

    model = apps.get_model(model_label)
    extra_columns, extra_values = [], []
    for field in model._meta.concrete_fields:
        if field.null or field.primary_key or field.column in written:
            continue
        if field.db_default is not NOT_PROVIDED:
            continue
        if field.has_default():
            value = field.get_default()
        elif field.get_internal_type() in ("CharField", "TextField", "EmailField", "URLField"):
            value = ""
        else:
            continue
        extra_columns.append(sql.SQL(", ") + sql.Identifier(field.column))
        extra_values.append(sql.SQL(", ") + _literal(value))
    return {
        "extra_columns": sql.Composed(extra_columns),
        "extra_values": sql.Composed(extra_values),
    }


def _insert_orders(cursor, *, store_id: int, order_id, first: int, last: int, lines: int):
    orders = sql.SQL(ORDER_INSERT).format(
        store=store_id,
        order_id=order_id,
        first=first,
        last=last,
        **_other_columns("rma.Order", ORDER_INSERT.split("SELECT")[0]),
    )
    cursor.execute(
        sql.SQL(LINES_INSERT).format(
            orders=orders,
            lines=lines,
            **_other_columns("rma.OrderLine", LINES_INSERT.split("SELECT")[0]),
        )
    )


def create_store() -> int:
    """The bench's store, through the ORM (every other field at its model default)."""
    from rma.models import Store

    store = Store.objects.create(
        code=STORE_CODE,
        name="Bench Store",
        currency="USD",
        timezone="America/New_York",
        support_email="care@example.com",
        return_address=RETURN_ADDRESS,
        policy=POLICY,
    )
    return store.pk


def load_base(url: str, *, generate_orders: int, total_orders: int) -> int:
    """The store, the per-line orders, the generateRMA orders and plain orders up to
    `total_orders` in all; returns the number of plain (lookup) orders."""
    plain = total_orders - len(LINE_COUNTS) - generate_orders
    if plain < 1:
        raise ValueError("the dataset is too small for the per-line and generateRMA orders")
    store_id = create_store()
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        for lines in LINE_COUNTS:
            _insert_orders(
                cursor,
                store_id=store_id,
                order_id=sql.Literal(per_line_order_id(lines)),
                first=1,
                last=1,
                lines=lines,
            )
        _insert_orders(
            cursor,
            store_id=store_id,
            order_id=sql.SQL("'GEN-' || lpad(i::text, 6, '0')"),
            first=1,
            last=generate_orders,
            lines=1,
        )
        add_plain_orders(cursor, store_id=store_id, first=1, last=plain)
    return plain


def add_plain_orders(cursor, *, store_id: int, first: int, last: int) -> None:
    _insert_orders(
        cursor,
        store_id=store_id,
        order_id=sql.SQL("'BN' || lpad(i::text, 7, '0')"),
        first=first,
        last=last,
        lines=1,
    )


def grow(url: str, *, total_orders: int) -> int:
    """Add plain orders until the database holds `total_orders`; returns the plain count."""
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT id FROM rma_store WHERE code = %s", (STORE_CODE,))
        store_id = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM rma_order")
        existing = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM rma_order WHERE order_id LIKE 'BN%%'",
        )
        plain = cursor.fetchone()[0]
        add_plain_orders(
            cursor, store_id=store_id, first=plain + 1, last=plain + total_orders - existing
        )
    return plain + total_orders - existing


def analyze(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE")


def load_test_order_id(index: int) -> str:
    return f"LT{index:07d}"


def add_load_test_orders(url: str, *, count: int) -> None:
    """One-line orders `LT0000001` … for the load test (bench/locustfile.py), one per
    shopper visit or API client round; `shopper<n>@example.com` as the others."""
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT id FROM rma_store WHERE code = %s", (STORE_CODE,))
        store_id = cursor.fetchone()[0]
        _insert_orders(
            cursor,
            store_id=store_id,
            order_id=sql.SQL("'LT' || lpad(i::text, 7, '0')"),
            first=1,
            last=count,
            lines=1,
        )

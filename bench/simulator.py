"""How fast is the policy simulator? Run: .venv/bin/python bench/simulator.py [--orders N] [--keep]

Builds a database `returns_bench_sim` (PostgreSQL at BENCH_POSTGRES_URL, as the harness)
with one store and N one-line orders (default 100,000; a fifth of them mugs, prices from
$20 to $319), and an RMA for every seventh order (refund, credit or exchange, requested 0 to
44 days after delivery). Then it runs the simulator (`policies.simulator.simulate`) for a
draft that excludes mugs, asks for review over $200 and extends the window by 15 days,
three times after a warm-up, and prints the median time, the rows per second and the
peak memory. The target: 100,000 orders in well under a minute, memory flat in N (rows
are streamed, never all held).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
DATABASE = "returns_bench_sim"
os.environ["DATABASE_URL"] = f"{POSTGRES}/{DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "returns_portal.settings.test")
for _name in ("CELERY_BROKER_URL", "CACHE_URL"):
    os.environ.pop(_name, None)

import django  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

DRAFT_RULES = [
    {
        "name": "Orders over $200: review",
        "when": [{"field": "order_total", "op": "gt", "value": "200"}],
        "then": [{"action": "require_review"}],
    },
    {"name": "Holidays", "when": [], "then": [{"action": "extend_window", "days": 15}]},
]

LINES_INSERT = """
    WITH orders AS ({orders})
    INSERT INTO rma_orderline (order_id, line_number, item_id, title, department, quantity,
                               unit_price, discount, tax, weight, length, width, height,
                               hazmat, final_sale, image_url)
    SELECT orders.id, 1, 'SKU-' || (orders.id % 500), 'Item',
           CASE WHEN orders.id % 5 = 0 THEN 'Mugs' ELSE 'Apparel' END, 1,
           20 + orders.id % 300, 0, 0, 1, 10, 10, 2, false, false, ''
    FROM orders
"""


def admin(statement) -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def build(orders: int) -> None:
    from django.core.management import call_command

    from bench import dataset

    admin(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DATABASE)))
    admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    call_command("migrate", verbosity=0, interactive=False)
    with psycopg.connect(os.environ["DATABASE_URL"]) as connection:
        cursor = connection.cursor()
        store_id = dataset.create_store(cursor)
        order_rows = sql.SQL(dataset.ORDER_INSERT).format(
            store=store_id,
            order_id=sql.SQL("'SIM' || lpad(i::text, 7, '0')"),
            first=1,
            last=orders,
        )
        cursor.execute(sql.SQL(LINES_INSERT).format(orders=order_rows))
        # Delivered 0 to 59 days ago, so windows and extensions matter.
        cursor.execute(
            "UPDATE rma_order SET delivered_at = now() - (id % 60) * interval '1 day',"
            " shipped_at = now() - (id % 60 + 1) * interval '1 day'"
        )
    _returns(orders)
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as connection:
        connection.execute("ANALYZE")


def _returns(orders: int) -> None:
    """An RMA for every seventh order, through the ORM (its columns and defaults)."""
    import datetime as dt

    from rma.models import Order, Resolution, Rma, RmaLine, RmaStatus
    from rma.numbers import new_rma_number

    resolutions = [Resolution.REFUND, Resolution.STORE_CREDIT, Resolution.EXCHANGE]
    rows = list(
        Order.objects.filter(pk__in=range(1, orders + 1, 7)).values_list(
            "pk", "store_id", "delivered_at", "lines__pk"
        )
    )
    rmas = [
        Rma(
            store_id=store_id,
            order_id=pk,
            rma_number=new_rma_number(),
            status=RmaStatus.RESOLVED,
            resolution=resolutions[pk % 3],
            channel="PORTAL",
        )
        for pk, store_id, _, _ in rows
    ]
    Rma.objects.bulk_create(rmas, batch_size=2000)
    RmaLine.objects.bulk_create(
        [
            RmaLine(rma=rma, order_line_id=line, quantity=1, reason_code="TOO_SMALL")
            for rma, (_, _, _, line) in zip(rmas, rows, strict=True)
        ],
        batch_size=2000,
    )
    for rma, (pk, _, delivered, _) in zip(rmas, rows, strict=True):
        rma.created_at = delivered + dt.timedelta(days=pk % 45)
    Rma.objects.bulk_update(rmas, ["created_at"], batch_size=2000)


def measure(runs: int) -> dict:
    from policies.simulator import simulate
    from rma.models import OrderLine, Rma, Store

    store = Store.objects.get()
    draft = {**store.policy, "excluded_departments": ["Mugs"], "rules": DRAFT_RULES}
    simulate(store=store, draft=draft)  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = simulate(store=store, draft=draft)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    lines = OrderLine.objects.count()
    rmas = Rma.objects.count()
    return {
        "orders": store.orders.count(),
        "lines": lines,
        "rmas": rmas,
        "median_s": median,
        "rows_per_s": (lines + rmas) * 2 / median,  # each row judged twice: live, draft
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "live": result.live,
        "draft": result.draft,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    arguments = parser.parse_args()
    django.setup()
    started = time.perf_counter()
    build(arguments.orders)
    built = time.perf_counter() - started
    try:
        figures = measure(arguments.runs)
    finally:
        from django.db import connections

        connections.close_all()
        if not arguments.keep:
            admin(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DATABASE)))
    print(f"data built in {built:.1f} s")
    print(
        f"orders {figures['orders']:,}, lines {figures['lines']:,}, RMAs {figures['rmas']:,}: "
        f"simulate median {figures['median_s']:.2f} s over {arguments.runs} runs, "
        f"{figures['rows_per_s']:,.0f} row judgements/s, peak RSS {figures['peak_rss_mb']:.0f} MB"
    )
    for name in ("live", "draft"):
        totals = figures[name]
        print(
            f"  {name}: lines eligible {totals.lines_eligible:,}, RMAs blocked "
            f"{totals.rmas_blocked:,}, reviewed {totals.rmas_reviewed:,}, "
            f"labels {totals.labels:,}, "
            f"refunds {totals.refund_total}, credit {totals.store_credit_total}, "
            f"exchanges {totals.exchange_total}, fees {totals.fees_collected}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

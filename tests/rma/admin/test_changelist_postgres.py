"""The RMA list on a large table (PostgreSQL, 200,000 RMAs) does work that does not grow.

The same small number of queries for the list, any page of it, a work queue and
searches; no count of the whole table (the paginator takes the planner's estimate);
pages are read through the ordering's index, searches through theirs. (No stopwatch:
a busy machine makes any time limit flaky; `make bench` is where time is measured.)
"""

import re
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rma.models import Order, Rma, RmaStatus
from tests.factories import OrderFactory, RmaFactory, StoreFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

RMAS = 200_000
ORDERS = 2_000
MAX_QUERIES = 12
CHANGELIST = reverse("admin:rma_rma_changelist")

# Finished returns dominate a real table; the queues hold a few percent.
STATUS_SQL = (
    "CASE mod(g, 50) WHEN 0 THEN 'REQUESTED' WHEN 1 THEN 'AUTHORIZED' WHEN 2 THEN 'AUTHORIZED'"
    " WHEN 3 THEN 'RECEIVED' WHEN 4 THEN 'CANCELLED' ELSE 'RESOLVED' END"
)


def insert_series(model, count: int, expressions: dict[str, str]) -> None:
    """INSERT ... SELECT over generate_series(1, count) AS g; other columns take their default."""
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in expressions:
            values.append(expressions[field.column])
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    table = connection.ops.quote_name(model._meta.db_table)
    # Identifiers come from the model, quoted; the values are this module's fixed SQL.
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
    with connection.cursor() as cursor:
        cursor.execute(sql + f"FROM generate_series(1, {count}) AS g", params)


@contextmanager
def indexes_built_after_loading(table: str):
    """Bulk-load practice: drop the secondary indexes, load, build them again (all rolled back
    with the test). Maintaining ten indexes row by row would take most of the test's time."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN"
            " (SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s))",
            [table, table],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        yield
        # Check the deferred foreign keys now: an index cannot be built with checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


@pytest.fixture
def large_table():
    store = StoreFactory(code="BIG")
    insert_series(
        Order,
        ORDERS,
        {
            "store_id": str(store.pk),
            "order_id": "'PG-' || g",
            "status": "'DELIVERED'",
            "placed_at": "now() - interval '20 days'",
            "customer_email": "'customer' || g || '@example.com'",
            "shipping_address": "'{}'::jsonb",
            "created_at": "now()",
            "updated_at": "now()",
        },
    )
    first_order = Order.objects.filter(order_id="PG-1").values_list("pk", flat=True).get()
    with indexes_built_after_loading("rma_rma"):
        insert_series(
            Rma,
            RMAS,
            {
                "store_id": str(store.pk),
                "order_id": f"{first_order} + mod(g, {ORDERS})",
                "rma_number": "'Z' || lpad(g::text, 9, '0')",
                "status": STATUS_SQL,
                "label_status": "CASE WHEN mod(g, 500) = 1 THEN 'FAILED' ELSE 'ISSUED' END",
                "channel": "'PORTAL'",
                "request_group": "gen_random_uuid()",
                "created_at": "now() - g * interval '1 minute'",
                "updated_at": "now()",
            },
        )
    target = RmaFactory(
        order=OrderFactory(store=store, order_id="SO-TARGET", customer_email="Ada@Example.com")
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE rma_rma")
        cursor.execute("ANALYZE rma_order")
    return target


def counts_whole_table(sql: str) -> bool:
    """A COUNT over rma_rma with neither a WHERE nor a LIMIT reads every row."""
    return bool(re.search(r'COUNT\(.*FROM "rma_rma"', sql)) and not re.search(
        r"\b(WHERE|LIMIT)\b", sql
    )


def load(client, params, query_counts: set[int]):
    """GET the list; its query count joins `query_counts` (the test expects one value)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    sqls = [query["sql"] for query in queries.captured_queries]
    assert len(sqls) <= MAX_QUERIES, "\n".join(sqls)
    assert not [sql for sql in sqls if counts_whole_table(sql)]
    query_counts.add(len(sqls))
    return response, sqls


def plan(sql_with_params: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql_with_params)
        return "\n".join(row[0] for row in cursor.fetchall())


def result_query(sqls: list[str]) -> str:
    return next(sql for sql in sqls if "ORDER BY" in sql and 'FROM "rma_rma"' in sql)


def newest_first(rmas) -> list[tuple]:
    return [(rma.created_at, rma.pk) for rma in rmas]


def test_changelist_pages_and_searches_on_200k_rmas(agent, login, large_table):
    client = login(agent)
    client.get(CHANGELIST)  # session, permissions and content types cached
    query_counts: set[int] = set()

    response, sqls = load(client, {}, query_counts)
    changelist = response.context["cl"]
    assert changelist.paginator.count_is_estimate
    assert abs(changelist.result_count - (RMAS + 1)) < RMAS * 0.1
    assert len(changelist.result_list) == 50
    assert "about" in response.content.decode()
    first_page = newest_first(changelist.result_list)
    assert first_page == sorted(first_page, reverse=True)
    assert "Seq Scan on rma_rma" not in plan(result_query(sqls))

    # Later pages: the next 50 in the same order, read with the same queries.
    second, _ = load(client, {"p": 2}, query_counts)
    second_page = newest_first(second.context["cl"].result_list)
    assert len(second_page) == 50
    assert second_page == sorted(second_page, reverse=True)
    assert first_page[-1] > second_page[0], "page 2 continues where page 1 ended"
    deep, sqls = load(client, {"p": 100}, query_counts)
    deep_page = newest_first(deep.context["cl"].result_list)
    assert len(deep_page) == 50
    assert second_page[-1] > deep_page[0]
    assert "Seq Scan on rma_rma" not in plan(result_query(sqls))

    queue, _ = load(client, {"queue": "review"}, query_counts)
    assert "Awaiting review (4000)" in queue.content.decode()
    assert {rma.status for rma in queue.context["cl"].result_list} == {RmaStatus.REQUESTED}

    number = large_table.rma_number
    for typed in (number, number.replace("-", "").lower()):
        found, sqls = load(client, {"q": typed}, query_counts)
        assert list(found.context["cl"].result_list) == [large_table], typed
        assert "Seq Scan on rma_rma" not in plan(result_query(sqls)), typed

    for term in ("so-target", "ada@example.com", "PG-7"):
        found, sqls = load(client, {"q": term}, query_counts)
        orders = {rma.order.order_id for rma in found.context["cl"].result_list}
        assert orders == ({"PG-7"} if term == "PG-7" else {"SO-TARGET"}), term
        query_plan = plan(result_query(sqls))
        assert "Seq Scan on rma_rma" not in query_plan, (term, query_plan)
        assert "Seq Scan on rma_order" not in query_plan, (term, query_plan)

    # Lists, pages, the queue and every search: one query count, whatever the rows.
    assert len(query_counts) == 1, query_counts

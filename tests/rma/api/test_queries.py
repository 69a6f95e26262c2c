"""Each operation runs a fixed number of queries, whether the order has 1 line or 50."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import OrderFactory, OrderLineFactory, RmaFactory, RmaLineFactory
from tests.rma.api.conftest import FORMATS, rma_body

pytestmark = pytest.mark.django_db


def order_with_lines(store, count: int, order_id: str):
    order = OrderFactory(store=store, order_id=order_id)
    for number in range(1, count + 1):
        OrderLineFactory(order=order, line_number=number, quantity=3)
    return order


def order_with_rma(store, count: int, order_id: str):
    order = order_with_lines(store, count, order_id)
    rma = RmaFactory(order=order)
    for line in order.lines.all():
        RmaLineFactory(rma=rma, order_line=line, quantity=1)
    return order


def queries(api, operation, fmt, body, order_id, method="post") -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        reply = api.call(operation, fmt, body, order_id=order_id, method=method)
    assert reply.status in (200, 201), reply.content
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_check_eligibility_queries_do_not_grow_with_lines(api, store, fmt, method):
    small, large = order_with_lines(store, 1, "S1"), order_with_lines(store, 50, "L50")
    body = {} if method == "post" else None
    # Warm up: the key's last-used write happens once a minute, not on every call.
    queries(api, "checkEligibility", fmt, body, small.order_id, method)
    few = queries(api, "checkEligibility", fmt, body, small.order_id, method)
    many = queries(api, "checkEligibility", fmt, body, large.order_id, method)
    # The store with the key and the order; its lines with held quantities and overrides.
    assert len(few) == len(many) == 2, many


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("package_info", [False, True])
def test_lookup_queries_do_not_grow_with_lines(api, store, fmt, package_info):
    small, large = order_with_rma(store, 1, "S1"), order_with_rma(store, 50, "L50")
    body = {"packageInfoRequired": package_info}
    queries(api, "lookupRMA", fmt, body, small.order_id)
    few = queries(api, "lookupRMA", fmt, body, small.order_id)
    many = queries(api, "lookupRMA", fmt, body, large.order_id)
    # The store with the key; the order; its RMAs; their lines with order lines; the
    # units earlier resolved returns took (for the estimates).
    assert len(few) == len(many) == 5, many


@pytest.mark.parametrize("fmt", FORMATS)
def test_generate_runs_the_same_queries_for_1_and_50_lines(api, store, fmt):
    small, large = order_with_lines(store, 1, "S1"), order_with_lines(store, 50, "L50")
    queries(api, "checkEligibility", fmt, None, small.order_id, "get")  # warm up the key
    few = queries(api, "generateRMA", fmt, rma_body(small, (1, 1)), small.order_id)
    body = rma_body(large, *((n, 1) for n in range(1, 51)), transaction_id="txn-50")
    many = queries(api, "generateRMA", fmt, body, large.order_id)

    # The store with the key; then, in one transaction (here a savepoint and its release,
    # the test being a transaction): the order locked and read with its store and the
    # store's webhook endpoints, its lines (with the units earlier resolved returns took),
    # the RMA, its lines (one insert), its two events (one insert), the confirmation, the
    # transaction id's row with the response.
    assert len(few) == len(many) == 10, many
    assert sum(sql.startswith("SAVEPOINT") for sql in many) == 1, many

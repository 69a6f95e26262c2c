"""Response bodies: built in the XSD's field order, and generateRMA's is what lookupRMA reads.

The builders write their keys in `FIELD_ORDER` themselves (only replays from jsonb are
re-sorted), so these tests hold every key of every body to it.
"""

import json

import pytest

from rma.api.responses import FIELD_RANK, in_field_order
from tests.factories import OrderFactory, OrderLineFactory, SupplierFactory
from tests.rma.api.conftest import rma_body

pytestmark = pytest.mark.django_db


def key_order(value):
    """Every dict's keys in order, recursively (lists item by item)."""
    if isinstance(value, dict):
        return [(key, key_order(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [key_order(item) for item in value]
    return None


def keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in keys(item)}
    return set()


def assert_in_field_order(content: bytes) -> dict:
    body = json.loads(content)
    assert keys(body) <= set(FIELD_RANK)
    assert key_order(body) == key_order(in_field_order(body))
    return body


@pytest.fixture
def mixed_order(store):
    """Lines for the warehouse and for a supplier, one of them without a weight (RMA 1011)."""
    supplier = SupplierFactory(store=store, return_address={"name": "Acme", "city": "Austin"})
    order = OrderFactory(store=store, order_id="MIX-1", status="PLACED")
    OrderLineFactory(order=order, line_number=1, quantity=2, weight=0)
    OrderLineFactory(order=order, line_number=2, quantity=1, supplier=supplier)
    return order


def test_eligibility_body_is_in_field_order(api, mixed_order):
    reply = api.call("checkEligibility", "json", order_id=mixed_order.order_id, method="get")

    body = assert_in_field_order(reply.content)
    assert body["items"]["item"][0]["ineligibility"]  # the order status fails every line


def test_generated_and_looked_up_bodies_are_in_field_order_and_alike(api, mixed_order):
    mixed_order.status = "DELIVERED"
    mixed_order.save()
    # Items listed out of line order: the response lists each RMA's lines by line number.
    request = rma_body(mixed_order, (2, 1, "DEFECTIVE"), (1, 2))

    generated = api.call("generateRMA", "json", request, order_id=mixed_order.order_id)
    looked_up = api.call("lookupRMA", "json", {}, order_id=mixed_order.order_id)
    with_package = api.call(
        "lookupRMA", "json", {"packageInfoRequired": True}, order_id=mixed_order.order_id
    )

    assert generated.status == 201, generated.content
    body = assert_in_field_order(generated.content)
    assert len(body["rmadetails"]) == 2
    # lookupRMA reads what generateRMA wrote (generateRMA adds Radial's top-level fields).
    lookup_body = assert_in_field_order(looked_up.content)
    assert lookup_body["rmadetails"] == body["rmadetails"]
    assert (lookup_body["orderId"], lookup_body["store"]) == (body["orderId"], body["store"])
    radial_keys = ["orderId", "store", "rmaid", "expiryDate", "items", "returnLocation"]
    assert [key for key in body if key in radial_keys] == radial_keys
    assert list(body)[-1] == "rmadetails"
    package_body = assert_in_field_order(with_package.content)
    assert package_body["rmadetails"][0]["packageInfo"]["ineligibility"]

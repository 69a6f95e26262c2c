"""The estimate in the API: per RMA in `rmadetails` (generateRMA and lookupRMA) and summed at
generateRMA's top level, in JSON and XML (schema-valid)."""

import json
from decimal import Decimal

import pytest

from rma.models import LabelStatus, Rma, RmaStatus
from tests.factories import (
    OrderFactory,
    OrderLineFactory,
    RmaFactory,
    RmaLineFactory,
    SupplierFactory,
)

from .conftest import FORMATS, rma_body, xsd

pytestmark = pytest.mark.django_db

FEE = {"amount": "4.95", "waived_for_resolutions": [], "waived_when_seller_fault": True}


def estimate_of(data: dict, fmt: str) -> dict:
    """An estimate object of a response in either format, with the JSON keys."""
    if fmt == "json":
        return data["estimate"]
    estimate = data["Estimate"]
    return {key[0].lower() + key[1:]: value for key, value in estimate.items()}


def details_of(data: dict, fmt: str) -> list[dict]:
    return data["rmadetails"] if fmt == "json" else data["RmaDetails"]


@pytest.fixture
def dropship(store):
    store.policy = {"return_fee": FEE}
    store.save()
    order = OrderFactory(store=store, order_id="5000000001")
    supplier = SupplierFactory(store=store)
    OrderLineFactory(order=order, line_number=1, quantity=2, unit_price=Decimal("19.99"))
    OrderLineFactory(
        order=order,
        line_number=2,
        quantity=3,
        unit_price=Decimal("10.00"),
        discount=Decimal("1.00"),
        tax=Decimal("2.40"),
        supplier=supplier,
    )
    return order


@pytest.mark.parametrize("fmt", FORMATS)
def test_generate_carries_each_rmas_estimate_and_their_sum(api, dropship, fmt):
    body = rma_body(dropship, (1, 2), (2, 3))

    reply = api.call("generateRMA", fmt, body, order_id=dropship.order_id)

    assert reply.status == 201, reply.content
    if fmt == "xml":
        assert xsd().validate(reply.tree()), xsd().error_log
    data = reply.data()
    per_rma = [estimate_of(entry, fmt) for entry in details_of(data, fmt)]
    # Warehouse RMA: 2 x 19.99 less the fee; the supplier's: 31.40 paid (10.47 + 10.47 +
    # 10.46) less its own fee (one fee per RMA).
    assert per_rma == [
        {"currency": "USD", "subtotal": "39.98", "fees": "4.95", "bonus": "0.00", "total": "35.03"},
        {"currency": "USD", "subtotal": "31.40", "fees": "4.95", "bonus": "0.00", "total": "26.45"},
    ]
    assert estimate_of(data, fmt) == {
        "currency": "USD",
        "subtotal": "71.38",
        "fees": "9.90",
        "bonus": "0.00",
        "total": "61.48",
    }


def test_generate_counts_what_earlier_returns_took_as_lookup_does(api, dropship):
    # One of line 2's three units came back before: its discount and tax are shared out
    # over the units in order, so the last two units' share depends on it.
    earlier = RmaFactory(order=dropship, status=RmaStatus.RESOLVED)
    line = dropship.lines.get(line_number=2)
    RmaLineFactory(rma=earlier, order_line=line, quantity=1, received_quantity=1)
    reply = api.call("generateRMA", "json", rma_body(dropship, (2, 2)), order_id=dropship.order_id)
    assert reply.status == 201
    [generated] = json.loads(reply.content)["rmadetails"]
    body = {"rmaid": generated["rmaid"]}
    looked_up = api.call("lookupRMA", "json", body, order_id=dropship.order_id)
    [detail] = json.loads(looked_up.content)["rmadetails"]
    assert generated["estimate"] == detail["estimate"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_lookup_carries_each_rmas_estimate(api, dropship, fmt):
    api.call("generateRMA", "json", rma_body(dropship, (1, 1)), order_id=dropship.order_id)

    reply = api.call(
        "lookupRMA",
        fmt,
        {"orderId": dropship.order_id, "store": dropship.store.code},
        order_id=dropship.order_id,
    )

    assert reply.status == 200, reply.content
    if fmt == "xml":
        assert xsd().validate(reply.tree()), xsd().error_log
        assert "Estimate" not in reply.data()  # only generateRMA sums at the top level
    (entry,) = details_of(reply.data(), fmt)
    assert estimate_of(entry, fmt) == {
        "currency": "USD",
        "subtotal": "19.99",
        "fees": "4.95",
        "bonus": "0.00",
        "total": "15.04",
    }


def test_store_credit_bonus_and_waived_fee_in_the_estimate(api, store, order):
    store.policy = {
        "return_fee": {"amount": "4.95"},  # waived for store credit by default
        "store_credit_bonus_percent": "10",
    }
    store.save()

    reply = api.call(
        "generateRMA",
        "json",
        rma_body(order, (1, 1), resolution="STORE_CREDIT"),
        order_id=order.order_id,
    )

    assert reply.status == 201, reply.content
    assert reply.data()["estimate"] == {
        "currency": "USD",
        "subtotal": "39.99",
        "fees": "0.00",
        "bonus": "4.00",
        "total": "43.99",
    }


def test_amounts_have_the_currencys_decimals(api, store):
    store.currency = "JPY"
    store.save()
    order = OrderFactory(store=store, order_id="JP-1")
    OrderLineFactory(order=order, line_number=1, quantity=3, unit_price=Decimal("1000"))

    reply = api.call("generateRMA", "json", rma_body(order, (1, 2)), order_id=order.order_id)

    assert reply.status == 201, reply.content
    assert reply.data()["estimate"] == {
        "currency": "JPY",
        "subtotal": "2000",
        "fees": "0",
        "bonus": "0",
        "total": "2000",
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_kept_items_make_a_resolved_rma_without_label(api, store, fmt):
    store.policy = {"keep_item_below": "8.00", "return_fee": FEE}
    store.save()
    order = OrderFactory(store=store, order_id="6000000001")
    OrderLineFactory(order=order, line_number=1, quantity=1, unit_price=Decimal("5.00"))
    OrderLineFactory(order=order, line_number=2, quantity=1, unit_price=Decimal("30.00"))

    reply = api.call("generateRMA", fmt, rma_body(order, (1, 1), (2, 1)), order_id=order.order_id)

    assert reply.status == 201, reply.content
    if fmt == "xml":
        assert xsd().validate(reply.tree()), xsd().error_log
    data = reply.data()
    details = details_of(data, fmt)
    statuses = [entry["status"] if fmt == "json" else entry["Status"] for entry in details]
    assert statuses == ["RESOLVED", "AUTHORIZED"]
    kept = Rma.objects.get(status=RmaStatus.RESOLVED)
    assert kept.label_status == LabelStatus.NOT_REQUIRED
    # The kept line pays no fee; the RMA sent back pays it.
    assert [estimate_of(entry, fmt)["total"] for entry in details] == ["5.00", "25.05"]
    assert estimate_of(data, fmt)["total"] == "30.05"


def test_the_openapi_document_describes_the_estimate(client):
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]

    assert set(components["Estimate"]["properties"]) == {
        "currency",
        "subtotal",
        "fees",
        "bonus",
        "total",
    }
    for name in ("RmaDetails", "RmaResponse"):
        assert components[name]["properties"]["estimate"]["allOf"][0]["$ref"].endswith(
            "/Estimate"
        ), name
        assert "estimate" in components[name]["required"]

"""generateRMA with `items[].exchangeItemId`: the stock reserved, the choice shown back
(JSON and XML), every RMA 1023 reason as a 422 fault, nothing written when refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalogue.models import ExchangeReservation, Variant
from rma.models import Rma, RmaLine
from tests.catalogue.factories import ProductFactory, VariantFactory
from tests.factories import OrderFactory, OrderLineFactory
from tests.rma.api.conftest import FORMATS, rma_body, xsd

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee(store):
    product = ProductFactory(store=store, product_id="TEE-1", title="Organic tee")
    sizes = {"M": ("25.00", 4), "L": ("25.00", 1), "S": ("19.00", 0), "XL": ("30.00", 5)}
    variants = {
        size: VariantFactory(
            product=product,
            item_id=f"TEE-1-{size}",
            options=[["Size", size]],
            price=Decimal(price),
            stock=stock,
        )
        for size, (price, stock) in sizes.items()
    }
    other = ProductFactory(store=store, product_id="MUG-1", title="Mug")
    variants["MUG"] = VariantFactory(
        product=other, item_id="MUG-1-RED", options=[], price=Decimal("10.00"), stock=3
    )
    return variants


@pytest.fixture
def tee_order(store, tee):
    order = OrderFactory(store=store, order_id="3000200001")
    OrderLineFactory(
        order=order, line_number=1, item_id="TEE-1-M", quantity=1, unit_price=Decimal("25.00")
    )
    return order


def exchange_body(order, item_id, **fields):
    body = rma_body(order, (1, 1), resolution="EXCHANGE", **fields)
    body["items"][0]["exchangeItemId"] = item_id
    return body


@pytest.mark.parametrize("fmt", FORMATS)
def test_generate_with_an_exchange_reserves_it_and_shows_it_back(api, tee_order, tee, fmt):
    reply = api.call("generateRMA", fmt, exchange_body(tee_order, "TEE-1-L"), order_id="3000200001")
    assert reply.status == 201, reply.content
    assert Variant.objects.get(item_id="TEE-1-L").stock == 0
    line = RmaLine.objects.get()
    assert line.replacement_item_id == "TEE-1-L"
    assert ExchangeReservation.objects.get().rma_line == line

    if fmt == "json":
        data = reply.data()
        assert data["items"]["item"] == [
            {
                "lineNumber": "1",
                "itemId": "TEE-1-M",
                "returnQuantity": 1,
                "exchangeItemId": "TEE-1-L",
            }
        ]
        assert data["rmadetails"][0]["items"]["item"][0]["exchangeItemId"] == "TEE-1-L"
    else:
        root = reply.tree()
        assert xsd().validate(root), xsd().error_log
        data = reply.data()
        assert data["Items"]["Item"][0]["ExchangeItemId"] == "TEE-1-L"
        assert data["RmaDetails"][0]["Items"]["Item"][0]["ExchangeItemId"] == "TEE-1-L"

    # lookupRMA shows it too.
    lookup = api.call(
        "lookupRMA",
        fmt,
        {"orderId": "3000200001", "store": tee_order.store.code},
        order_id="3000200001",
    )
    assert lookup.status == 200
    if fmt == "json":
        item = lookup.data()["rmadetails"][0]["items"]["item"][0]
        assert item["exchangeItemId"] == "TEE-1-L"
    else:
        assert xsd().validate(lookup.tree()), xsd().error_log
        item = lookup.data()["RmaDetails"][0]["Items"]["Item"][0]
        assert item["ExchangeItemId"] == "TEE-1-L"


def test_a_refund_line_has_no_exchange_item_in_the_response(api, tee_order, tee):
    reply = api.call("generateRMA", "json", rma_body(tee_order, (1, 1)), order_id="3000200001")
    assert reply.status == 201, reply.content
    assert "exchangeItemId" not in reply.data()["items"]["item"][0]
    assert "exchangeItemId" not in reply.data()["rmadetails"][0]["items"]["item"][0]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("item_id", "why"),
    [
        ("NOT-IN-CATALOGUE", "not in the store's catalogue"),
        ("MUG-1-RED", "another product"),
        ("TEE-1-S", "out of stock"),
        ("TEE-1-XL", "dearer"),
    ],
)
def test_each_unavailable_exchange_is_a_1023_fault_and_writes_nothing(
    api, tee_order, tee, fmt, item_id, why
):
    reply = api.call("generateRMA", fmt, exchange_body(tee_order, item_id), order_id="3000200001")
    assert reply.status == 422, reply.content
    fault = reply.fault()
    assert fault["code"] == "RMA 1023"
    assert fault["description"] == "Exchange item not available"
    assert fault["items"] == [
        {"lineNumber": "1", "code": "RMA 1023", "description": "Exchange item not available"}
    ]
    if fmt == "json":
        assert fault["detail"].startswith("line 1: ")
    assert not Rma.objects.exists()
    assert not ExchangeReservation.objects.exists()
    assert {v.item_id: v.stock for v in Variant.objects.all()} == {
        "TEE-1-M": 4,
        "TEE-1-L": 1,
        "TEE-1-S": 0,
        "TEE-1-XL": 5,
        "MUG-1-RED": 3,
    }


def test_the_refusal_details_differ_by_reason(api, tee_order, tee):
    details = {
        item_id: api.call(
            "generateRMA",
            "json",
            exchange_body(tee_order, item_id, transactionId=f"txn-{item_id}"),
            order_id="3000200001",
        ).fault()["detail"]
        for item_id in ("NOT-IN-CATALOGUE", "MUG-1-RED", "TEE-1-S", "TEE-1-XL")
    }
    assert len(set(details.values())) == 4
    assert "out of stock" in details["TEE-1-S"]


def test_an_exchange_item_with_another_resolution_is_refused(api, tee_order, tee):
    body = exchange_body(tee_order, "TEE-1-L")
    body["resolution"] = "REFUND"
    reply = api.call("generateRMA", "json", body, order_id="3000200001")
    assert reply.status == 400
    assert reply.fault()["code"] == "RMA 1001"
    assert "EXCHANGE" in reply.fault()["detail"]
    assert not Rma.objects.exists()
    assert Variant.objects.get(item_id="TEE-1-L").stock == 1


def test_an_exchange_item_that_is_not_text_is_invalid(api, tee_order, tee):
    body = exchange_body(tee_order, 42)
    reply = api.call("generateRMA", "json", body, order_id="3000200001")
    assert reply.status == 400
    assert reply.fault()["code"] == "RMA 1001"


def test_the_openapi_schema_describes_exchange_item_id(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert schema.count("exchangeItemId") >= 2  # in the request item and the response item

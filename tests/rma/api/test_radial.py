"""Radial's published example requests, sent as they are, and Radial's response shapes.

The bodies below are Radial's own examples for generateRMA and lookupRMA, unchanged:
the store, order, item and reason codes are theirs, so the tests create that store
(`TMSUS`, from the shared fixture), order `2000009318` with item `21-RITOCS004b`, and
leave reason `CDE` unconfigured, as a real Radial client's store would.

Radial's page shows two generateRMA bodies that differ only in `returnItemsReceived`
(it labels the one with `true` "No RCR" and the one with `false` "With RCR"); both are
here, named by what they do.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from rma.emails import build_email
from rma.models import ApiTransaction, Notification, Rma, RmaStatus
from tests.factories import OrderFactory, OrderLineFactory, UserFactory
from tests.rma.api.conftest import FORMATS, NS, RESPONSE_ROOTS, Reply, xml_request, xsd

pytestmark = pytest.mark.django_db

# Radial's generateRMA example in which the items were taken back at a store counter.
RADIAL_GENERATE_RECEIVED = {
    "orderId": "2000009318",
    "orderType": "OMS",
    "store": "TMSUS",
    "storeType": "Store",
    "transactionId": "TransactionId-2000009318",
    "sourceName": "ROMUI",
    "sourceLocationId": "100801",
    "requestTime": "2020-05-07T14:54:15+00:00",
    "returnItemsReceived": True,
    "returnType": "InStore",
    "items": [
        {
            "lineNumber": "1",
            "itemId": "21-RITOCS004b",
            "returnQuantity": 1,
            "returnReason": {
                "code": "CDE",
                "category": "CDE",
                "description": "Cancelled Data Entry Error",
            },
        }
    ],
    "representativeInfo": {"id": "BURNSM@HIBNA", "name": "MCKENZIE"},
    "comments": "Item not what i Ordered!!",
}
# Radial's other generateRMA example: the same, the items still to be sent back.
RADIAL_GENERATE_TO_SEND = {**RADIAL_GENERATE_RECEIVED, "returnItemsReceived": False}
# Radial's lookupRMA examples.
RADIAL_LOOKUP = {
    "orderId": "2000009318",
    "orderType": "OMS",
    "store": "TMSUS",
    "storeType": "Channel",
    "sourceName": "ROMUI",
    "sourceLocationId": "TMS_NA-DC001",
    "packageInfoRequired": False,
}
RADIAL_LOOKUP_PACKAGE = {
    "orderId": "2000026296",
    "orderType": "OMS",
    "store": "TMSUS",
    "storeType": "Store",
    "sourceName": "ROMUI",
    "sourceLocationId": "TMS_NA-DC001",
    "rmaid": "200002629620200719182546298",
    "packageInfoRequired": True,
}

RADIAL_NAMESPACE = "http://api.gsicommerce.com/schema/checkout/1.0"
CREATION_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000")
EXPIRY_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}")
TEMPLATES = {
    "checkEligibility": "/v1.0/sellers/{store}/orders/{order}/returns/checkEligibility/new",
    "generateRMA": "/v1.0/return-order-create/sellers/{store}/orders/{order}/returns/generateRMA",
    "lookupRMA": "/v1.0/return-order-create/sellers/{store}/orders/{order}/returns/lookupRMA",
}
WAREHOUSE = {
    "name": "TMS Returns",
    "line1": "1 Warehouse Way",
    "city": "King of Prussia",
    "state": "PA",
    "postal_code": "19406",
    "country": "US",
}


@pytest.fixture
def radial_order(store):
    store.return_address = WAREHOUSE
    store.save()
    order = OrderFactory(store=store, order_id="2000009318")
    OrderLineFactory(order=order, line_number=1, item_id="21-RITOCS004b", quantity=1)
    return order


@pytest.fixture
def package_order(store):
    order = OrderFactory(store=store, order_id="2000026296")
    OrderLineFactory(order=order, line_number=1, item_id="21-RITOCS004b", quantity=1)
    return order


def body_in(fmt: str, operation: str, data: dict) -> bytes:
    return json.dumps(data).encode() if fmt == "json" else xml_request(operation, data)


def parsed(reply: Reply, operation: str) -> dict:
    """The response in either format; XML is validated and must carry our namespace."""
    if reply.format == "json":
        assert reply.headers["Content-Type"] == "application/json"
        return json.loads(reply.content)
    assert reply.headers["Content-Type"] == "application/xml; charset=utf-8"
    root = reply.tree()
    assert root.tag == f"{{{NS}}}{RESPONSE_ROOTS[operation]}", reply.content
    assert xsd().validate(root), xsd().error_log
    return reply.data()


def generate(api, fmt: str, body: dict) -> Reply:
    return api.call("generateRMA", fmt, body, order_id=body["orderId"])


def assert_return_location(location: dict) -> None:
    assert location == {
        "whsName": "TMS Returns",
        "whsStreet": "1 Warehouse Way",
        "whsCity": "King of Prussia",
        "whsState": "PA",
        "whsPostalCode": "19406",
        "whsCountryCode": "US",
    }


# ---- generateRMA ----------------------------------------------------------------------


def test_items_received_at_the_counter_json_field_by_field(api, radial_order, settings):
    settings.LABEL_SERVICE = "builtin"  # a label would be made, were the goods not in hand
    reply = generate(api, "json", RADIAL_GENERATE_RECEIVED)
    assert reply.status == 201, reply.content
    data = parsed(reply, "generateRMA")
    rma = Rma.objects.get()

    # Radial's fields, in Radial's order, then every RMA (other fields may come between).
    radial_keys = [
        "orderId",
        "orderType",
        "store",
        "storeType",
        "rmaid",
        "expiryDate",
        "items",
        "returnLocation",
        "rmadetails",
    ]
    assert [key for key in data if key in radial_keys] == radial_keys
    assert data["orderId"] == "2000009318"
    assert data["orderType"] == "OMS"
    assert data["store"] == "TMSUS"
    assert data["storeType"] == "Store"
    assert data["rmaid"] == rma.rma_number
    assert EXPIRY_DATE.fullmatch(data["expiryDate"]), data["expiryDate"]
    assert data["items"] == {
        "item": [{"lineNumber": "1", "itemId": "21-RITOCS004b", "returnQuantity": 1}]
    }
    assert_return_location(data["returnLocation"])

    [details] = data["rmadetails"]
    assert details["rmaid"] == rma.rma_number
    assert details["status"] == "RECEIVED"
    assert details["isRMAActive"] is True
    assert CREATION_DATE.fullmatch(details["creationDate"]), details["creationDate"]
    assert details["creationDate"] == rma.created_at.strftime("%Y-%m-%dT%H:%M:%S+0000")
    assert details["expiryDate"] == data["expiryDate"]
    assert details["items"] == {
        "item": [
            {
                "lineNumber": "1",
                "itemId": "21-RITOCS004b",
                "returnQuantity": 1,
                "returnReasonCode": {"value": "CDE", "category": "CDE"},
            }
        ]
    }
    assert_return_location(details["returnLocation"])
    assert details["label"] == {"status": "NOT_REQUIRED", "carrier": "", "trackingNumber": ""}

    # Stored: the request's context, the caller's reason, the goods received uninspected.
    assert (rma.status, rma.label_status) == (RmaStatus.RECEIVED, "NOT_REQUIRED")
    assert (rma.order_type, rma.store_type, rma.source_name) == ("OMS", "Store", "ROMUI")
    assert (rma.source_location_id, rma.return_type) == ("100801", "InStore")
    assert rma.received_at is not None
    line = rma.lines.get()
    assert (line.reason_code, line.reason_category, line.reason_description) == (
        "CDE",
        "CDE",
        "Cancelled Data Entry Error",
    )
    assert (line.received_quantity, line.condition) == (1, "UNINSPECTED")
    assert list(rma.events.values_list("type", flat=True)) == [
        "rma.created",
        "rma.authorized",
        "rma.received",
    ]
    assert list(Notification.objects.values_list("kind", flat=True)) == ["received_at_counter"]
    assert rma.customer_comment == "Item not what i Ordered!!"


def test_items_received_at_the_counter_in_xml(api, radial_order):
    reply = generate(api, "xml", RADIAL_GENERATE_RECEIVED)
    assert reply.status == 201, reply.content
    data = parsed(reply, "generateRMA")
    rma = Rma.objects.get()
    assert (data["OrderId"], data["OrderType"], data["Store"], data["StoreType"]) == (
        "2000009318",
        "OMS",
        "TMSUS",
        "Store",
    )
    assert data["Rmaid"] == rma.rma_number
    assert EXPIRY_DATE.fullmatch(data["ExpiryDate"])
    assert data["Items"] == {
        "Item": [{"LineNumber": "1", "ItemId": "21-RITOCS004b", "ReturnQuantity": "1"}]
    }
    [details] = data["RmaDetails"]
    assert (details["Status"], details["IsRMAActive"]) == ("RECEIVED", "true")
    assert CREATION_DATE.fullmatch(details["CreationDate"])
    assert details["Items"]["Item"][0]["ReturnReasonCode"] == {"Value": "CDE", "Category": "CDE"}
    assert details["Label"]["Status"] == "NOT_REQUIRED"
    assert rma.status == RmaStatus.RECEIVED
    assert rma.lines.get().condition == "UNINSPECTED"


@pytest.mark.parametrize("fmt", FORMATS)
def test_items_to_be_sent_back_are_authorized_with_a_label_to_come(
    api, radial_order, fmt, settings
):
    settings.LABEL_SERVICE = "builtin"
    reply = generate(api, fmt, RADIAL_GENERATE_TO_SEND)
    assert reply.status == 201, reply.content
    data = parsed(reply, "generateRMA")
    rma = Rma.objects.get()
    assert rma.status == RmaStatus.AUTHORIZED
    assert rma.label_status == "PENDING"
    assert rma.received_at is None
    assert rma.lines.get().received_quantity is None
    assert Notification.objects.get().kind == "confirmation"
    if fmt == "json":
        assert data["rmadetails"][0]["status"] == "AUTHORIZED"
        assert data["rmadetails"][0]["label"]["status"] == "PENDING"
        assert (data["orderType"], data["storeType"]) == ("OMS", "Store")
    else:
        assert data["RmaDetails"][0]["Status"] == "AUTHORIZED"


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_transaction_id_with_the_other_example_is_1022(api, radial_order, fmt):
    first = generate(api, fmt, RADIAL_GENERATE_RECEIVED)
    assert first.status == 201
    again = generate(api, fmt, RADIAL_GENERATE_RECEIVED)
    assert (again.status, again.content) == (201, first.content)
    other = generate(api, fmt, RADIAL_GENERATE_TO_SEND)
    assert other.status == 409
    fault = other.fault()
    assert fault["code"] == "RMA 1022"
    # The request's context is echoed in faults too, once the body could be read.
    assert (fault["orderType"], fault["storeType"]) == ("OMS", "Store")
    assert Rma.objects.count() == 1


def test_returnitemsreceived_false_is_the_same_request_as_leaving_it_out(api, radial_order):
    first = generate(api, "json", RADIAL_GENERATE_TO_SEND)
    without = {k: v for k, v in RADIAL_GENERATE_TO_SEND.items() if k != "returnItemsReceived"}
    again = generate(api, "json", without)
    assert (first.status, again.status) == (201, 201)
    assert again.content == first.content
    assert Rma.objects.count() == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_line_numbers_and_quantities_as_numbers_or_digit_strings(api, radial_order, fmt):
    body = copy.deepcopy(RADIAL_GENERATE_TO_SEND)
    body["items"][0].update(lineNumber=1, returnQuantity="1")
    reply = generate(api, fmt, body)
    assert reply.status == 201, reply.content
    assert Rma.objects.get().lines.get().quantity == 1


# ---- unknown fields and reason codes --------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_fields_are_ignored_at_every_level(api, radial_order, fmt):
    body = copy.deepcopy(RADIAL_GENERATE_TO_SEND)
    body["loyaltyNumber"] = "L-123"
    body["items"][0]["giftReceipt"] = "yes"
    body["items"][0]["returnReason"]["subCode"] = "7"
    body["representativeInfo"]["storeNumber"] = "42"
    reply = generate(api, fmt, body)
    assert reply.status == 201, reply.content
    # Unknown fields are not part of the request: the plain example replays it.
    again = generate(api, fmt, RADIAL_GENERATE_TO_SEND)
    assert (again.status, again.content) == (201, reply.content)
    assert Rma.objects.count() == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_configured_reasons_keep_their_policy_flags(api, radial_order, fmt):
    radial_order.store.policy = {
        "reasons": [
            {"code": "CDE", "description": "Data entry error", "requires_review": True},
        ]
    }
    radial_order.store.save()
    body = copy.deepcopy(RADIAL_GENERATE_TO_SEND)
    del body["items"][0]["returnReason"]["category"]
    reply = generate(api, fmt, body)
    assert reply.status == 201, reply.content
    data = parsed(reply, "generateRMA")
    rma = Rma.objects.get()
    assert rma.status == RmaStatus.REQUESTED  # the store's reason asks for a review
    if fmt == "json":
        assert data["expiryDate"] is None
        item = data["rmadetails"][0]["items"]["item"][0]
        # No category sent: the store's description of its reason.
        assert item["returnReasonCode"] == {"value": "CDE", "category": "Data entry error"}
    else:
        assert "ExpiryDate" not in data
        category = data["RmaDetails"][0]["Items"]["Item"][0]["ReturnReasonCode"]["Category"]
        assert category == "Data entry error"


# ---- lookupRMA ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_lookup_without_package_info_as_radial_sends_it(api, radial_order, fmt):
    created = generate(api, "json", RADIAL_GENERATE_RECEIVED)
    rmaid = json.loads(created.content)["rmaid"]
    reply = api.call("lookupRMA", fmt, RADIAL_LOOKUP, order_id="2000009318")
    assert reply.status == 200, reply.content
    data = parsed(reply, "lookupRMA")
    if fmt == "json":
        assert list(data) == ["orderId", "orderType", "store", "storeType", "rmadetails"]
        assert "rmaid" not in data and "items" not in data  # generateRMA's top level only
        assert (data["orderId"], data["orderType"], data["store"], data["storeType"]) == (
            "2000009318",
            "OMS",
            "TMSUS",
            "Channel",
        )
        [details] = data["rmadetails"]
        assert details["rmaid"] == rmaid
        assert details["status"] == "RECEIVED"
        assert details["isRMAActive"] is True
        assert CREATION_DATE.fullmatch(details["creationDate"])
        assert EXPIRY_DATE.fullmatch(details["expiryDate"])
        assert details["items"]["item"] == [
            {
                "lineNumber": "1",
                "itemId": "21-RITOCS004b",
                "returnQuantity": 1,
                "returnReasonCode": {"value": "CDE", "category": "CDE"},
            }
        ]
        assert isinstance(details["items"]["item"][0]["returnQuantity"], int)
        assert_return_location(details["returnLocation"])
        assert "packageInfo" not in details
    else:
        assert (data["OrderType"], data["StoreType"]) == ("OMS", "Channel")
        [details] = data["RmaDetails"]
        assert (details["Rmaid"], details["Status"]) == (rmaid, "RECEIVED")
        assert "PackageInfo" not in details


@pytest.mark.parametrize("fmt", FORMATS)
def test_lookup_with_package_info_as_radial_sends_it(api, package_order, fmt):
    # Radial's example names one of Radial's own RMA ids: not a number of ours.
    reply = api.call("lookupRMA", fmt, RADIAL_LOOKUP_PACKAGE, order_id="2000026296")
    assert reply.status == 404, reply.content
    fault = reply.fault()
    assert fault["code"] == "RMA 1009"
    assert (fault["orderType"], fault["storeType"]) == ("OMS", "Store")

    body = {**RADIAL_GENERATE_TO_SEND, "orderId": "2000026296", "transactionId": "T-26296"}
    created = generate(api, "json", body)
    assert created.status == 201, created.content
    rmaid = json.loads(created.content)["rmaid"]
    reply = api.call(
        "lookupRMA", fmt, {**RADIAL_LOOKUP_PACKAGE, "rmaid": rmaid}, order_id="2000026296"
    )
    assert reply.status == 200, reply.content
    data = parsed(reply, "lookupRMA")
    if fmt == "json":
        assert (data["orderType"], data["storeType"]) == ("OMS", "Store")
        [details] = data["rmadetails"]
        assert details["rmaid"] == rmaid
        package = details["packageInfo"]
        assert package["eligible"] is True
        assert (package["weightUnit"], package["dimensionUnit"], package["currency"]) == (
            "lb",
            "in",
            "USD",
        )
    else:
        [details] = data["RmaDetails"]
        assert details["PackageInfo"]["Eligible"] == "true"


# ---- Radial's URI templates -----------------------------------------------------------


def template_call(api, operation, *, body=None, content_type=None, accept=None, **path):
    url = TEMPLATES[operation].format(
        store=path.get("store", "TMSUS"), order=path.get("order", "2000009318")
    )
    headers = {"apikey": api.key}
    if accept:
        headers["Accept"] = accept
    method = path.get("method", "get" if operation == "checkEligibility" else "post")
    if method == "get":
        response = api.client.get(url, headers=headers)
    else:
        response = api.client.generic(
            method.upper(), url, body or b"", content_type=content_type or "", headers=headers
        )
    media = response.headers.get("Content-Type", "")
    return Reply(response.status_code, "json" if "json" in media else "xml", response)


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [("application/json", "json"), ("application/xml", "xml"), (None, "xml"), ("*/*", "xml")],
)
def test_check_eligibility_template_chooses_the_format_from_accept(api, radial_order, accept, fmt):
    reply = template_call(api, "checkEligibility", accept=accept)
    assert reply.status == 200, reply.content
    assert reply.format == fmt
    data = parsed(reply, "checkEligibility")
    if fmt == "json":
        assert data["items"]["item"][0]["lineNumber"] == "1"
        assert data["eligible"] is True
        assert "orderType" not in data
    else:
        assert data["Items"]["Item"][0]["LineNumber"] == "1"


@pytest.mark.parametrize("fmt", FORMATS)
def test_generate_and_lookup_templates_in_both_formats(api, radial_order, fmt):
    content_type = "application/json" if fmt == "json" else "application/xml"
    reply = template_call(
        api,
        "generateRMA",
        body=body_in(fmt, "generateRMA", RADIAL_GENERATE_RECEIVED),
        content_type=content_type,
    )
    assert (reply.status, reply.format) == (201, fmt), reply.content
    data = parsed(reply, "generateRMA")
    rmaid = Rma.objects.get().rma_number
    assert data["rmaid" if fmt == "json" else "Rmaid"] == rmaid

    reply = template_call(
        api,
        "lookupRMA",
        body=body_in(fmt, "lookupRMA", RADIAL_LOOKUP),
        content_type=content_type,
    )
    assert (reply.status, reply.format) == (200, fmt), reply.content
    data = parsed(reply, "lookupRMA")
    details = data["rmadetails"] if fmt == "json" else data["RmaDetails"]
    assert [entry["rmaid" if fmt == "json" else "Rmaid"] for entry in details] == [rmaid]


def test_a_json_body_without_content_type_but_accepting_json_is_read_as_json(api, radial_order):
    reply = template_call(
        api,
        "lookupRMA",
        body=json.dumps(RADIAL_LOOKUP).encode(),
        content_type="text/plain",
        accept="application/json",
    )
    assert (reply.status, reply.format) == (200, "json"), reply.content


@pytest.mark.parametrize(
    ("content_type", "fmt"), [("application/json", "json"), ("application/xml", "xml")]
)
@pytest.mark.parametrize(
    ("operation", "body", "status", "code"),
    [
        ("generateRMA", b"{not json", 400, "RMA 1001"),
        ("generateRMA", b"<RmaRequest", 400, "RMA 1001"),
        ("lookupRMA", b"", 400, "RMA 1001"),
    ],
)
def test_bad_input_on_a_template_is_a_fault_in_the_chosen_format(
    api, radial_order, content_type, fmt, operation, body, status, code
):
    # Accept too: with an empty body the test client sends no Content-Type at all.
    reply = template_call(api, operation, body=body, content_type=content_type, accept=content_type)
    assert (reply.status, reply.format) == (status, fmt), reply.content
    assert reply.fault()["code"] == code


@pytest.mark.parametrize(("accept", "fmt"), [("application/json", "json"), (None, "xml")])
@pytest.mark.parametrize(
    ("path", "method", "status", "code"),
    [
        ("/v1.0/sellers/NOPE/orders/1/returns/checkEligibility/new", "get", 404, "RMA 1002"),
        ("/v1.0/sellers/TMSUS/orders/404404/returns/checkEligibility/new", "get", 404, "RMA 1003"),
        ("/v1.0/sellers/TMSUS/orders/1/returns/unknownOperation", "get", 404, "404"),
        ("/v1.0/return-order-create/sellers/TMSUS/orders/1/returns/nope", "post", 404, "404"),
        ("/v1.0/return-order-create/", "get", 404, "404"),
        ("/v1.0/seller/TMSUS/return-order/create/1/checkEligibility.csv", "get", 404, "404"),
        (TEMPLATES["generateRMA"].format(store="TMSUS", order="1"), "get", 405, "405"),
        (TEMPLATES["lookupRMA"].format(store="TMSUS", order="1"), "delete", 405, "405"),
        (TEMPLATES["checkEligibility"].format(store="TMSUS", order="1"), "put", 405, "405"),
    ],
)
def test_the_template_prefixes_answer_faults_never_html(
    api, radial_order, accept, fmt, path, method, status, code
):
    headers = {"apikey": api.key}
    if accept:
        headers["Accept"] = accept
    response = api.client.generic(method.upper(), path, b"", headers=headers)
    reply = Reply(response.status_code, fmt, response)
    assert reply.status == status, response.content
    assert response.headers["Content-Type"].startswith(
        "application/json" if fmt == "json" else "application/xml"
    )
    assert b"<html" not in response.content.lower()
    assert reply.fault()["code"] == code
    assert response.headers["X-Request-ID"]


# ---- XML namespaces -------------------------------------------------------------------


def in_namespace(document: bytes, namespace: str | None) -> bytes:
    """The same request document with `namespace` as its default (None: no namespace)."""
    ours = f' xmlns="{NS}"'.encode()
    assert document.count(ours) == 1
    return document.replace(ours, f' xmlns="{namespace}"'.encode() if namespace else b"")


@pytest.mark.parametrize("namespace", [None, RADIAL_NAMESPACE], ids=["none", "radial"])
@pytest.mark.parametrize("route", ["suffix", "template"])
def test_foreign_namespaces_are_read_as_ours(api, radial_order, namespace, route):
    requests = {
        "checkEligibility": {"orderId": "2000009318", "orderType": "OMS"},
        "generateRMA": RADIAL_GENERATE_RECEIVED,
        "lookupRMA": RADIAL_LOOKUP,
    }
    expected = {"checkEligibility": 200, "generateRMA": 201, "lookupRMA": 200}
    for operation, data in requests.items():
        document = in_namespace(xml_request(operation, data), namespace)
        if namespace is None:
            assert b"xmlns" not in document
        else:
            assert f'xmlns="{namespace}"'.encode() in document
        if route == "suffix":
            reply = api.call(operation, "xml", document, order_id="2000009318")
        else:
            reply = template_call(
                api,
                operation,
                body=document,
                content_type="application/xml",
                method="post",
            )
        assert reply.status == expected[operation], (operation, reply.content)
        # Answers stay in our namespace.
        assert parsed(reply, operation)
    assert Rma.objects.get().status == RmaStatus.RECEIVED


@pytest.mark.parametrize("namespace", [None, RADIAL_NAMESPACE, NS], ids=["none", "radial", "ours"])
def test_unknown_xml_elements_are_dropped_in_any_namespace_read_as_ours(
    api, radial_order, namespace
):
    document = in_namespace(xml_request("generateRMA", RADIAL_GENERATE_TO_SEND), namespace)
    text = document.decode()
    extra = "<LoyaltyNumber>L-1</LoyaltyNumber><Nested><Deep>x</Deep></Nested>"
    text = text.replace("<Comments>", extra + "<Comments>", 1)
    text = text.replace("<ItemId>", "<GiftReceipt>yes</GiftReceipt><ItemId>", 1)
    reply = api.call("generateRMA", "xml", text.encode(), order_id="2000009318")
    assert reply.status == 201, reply.content
    assert Rma.objects.get().return_type == "InStore"


def test_an_xml_root_in_another_namespace_is_still_refused(api, radial_order):
    document = in_namespace(xml_request("lookupRMA", RADIAL_LOOKUP), "urn:someone-else")
    reply = api.call("lookupRMA", "xml", document, order_id="2000009318")
    assert reply.status == 400
    assert reply.fault()["code"] == "RMA 1001"


# ---- echo ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_eligibility_echoes_order_and_store_type(api, radial_order, fmt):
    body = {"orderId": "2000009318", "orderType": "OMS", "storeType": "Store"}
    reply = api.call("checkEligibility", fmt, body, order_id="2000009318")
    assert reply.status == 200, reply.content
    data = parsed(reply, "checkEligibility")
    if fmt == "json":
        assert list(data)[:4] == ["orderId", "orderType", "store", "storeType"]
        assert (data["orderType"], data["storeType"]) == ("OMS", "Store")
    else:
        assert (data["OrderType"], data["StoreType"]) == ("OMS", "Store")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_fault_after_the_body_was_read_echoes_it(api, radial_order, fmt):
    body = {**RADIAL_GENERATE_RECEIVED, "orderId": "404404"}
    reply = api.call("generateRMA", fmt, body, order_id="404404")
    assert reply.status == 404
    fault = reply.fault()
    assert (fault["code"], fault["orderType"], fault["storeType"]) == (
        "RMA 1003",
        "OMS",
        "Store",
    )
    assert not ApiTransaction.objects.exists()


def test_a_fault_before_the_body_was_read_has_no_echo(api, radial_order):
    reply = api.call("generateRMA", "json", b"{", order_id="2000009318")
    fault = reply.fault()
    assert fault["code"] == "RMA 1001"
    assert "orderType" not in fault and "storeType" not in fault


# ---- what agents, the warehouse and the shopper see of a counter return ---------------


@pytest.fixture
def counter_rma(api, radial_order):
    assert generate(api, "json", RADIAL_GENERATE_RECEIVED).status == 201
    return Rma.objects.get()


def test_the_shopper_is_told_the_return_was_received(counter_rma):
    notification = Notification.objects.get()
    message = build_email(notification, [counter_rma])
    assert message.subject.endswith(f"We received your return {counter_rma.rma_number}")
    assert "We have received the items you returned." in message.body
    # The unconfigured reason in the caller's words; the quantity received.
    assert "Reason: Cancelled Data Entry Error" in message.body
    assert "received: 1" in message.body
    assert "Return label" not in message.body


def test_agents_see_the_order_system_fields_and_the_uninspected_line(admin_client, counter_rma):
    page = admin_client.get(reverse("admin:rma_rma_change", args=[counter_rma.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    for value in ("ROMUI", "100801", "InStore", "OMS", "Not inspected yet"):
        assert value in html, value
    assert "Cancelled Data Entry Error" in html
    queue = admin_client.get(reverse("admin:rma_rma_changelist"), {"queue": "unresolved"})
    assert counter_rma.rma_number in queue.content.decode()


def test_the_warehouse_resolves_a_counter_return_left_uninspected(client, counter_rma):
    user = UserFactory(username="resolver")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["resolve_rma", "view_all_stores"])
    )
    client.force_login(user)
    url = reverse("warehouse:resolve", kwargs={"rma_number": counter_rma.rma_number})
    page = client.get(url)
    assert page.status_code == 200
    assert "Not inspected yet" in page.content.decode()
    assert "Cancelled Data Entry Error" in page.content.decode()
    line = counter_rma.lines.get()
    response = client.post(url, {f"line-{line.pk}-outcome": "REFUND"})
    assert response.status_code in (200, 302), response.content[:500]
    counter_rma.refresh_from_db()
    line.refresh_from_db()
    assert counter_rma.status == RmaStatus.RESOLVED
    assert (line.outcome, line.condition) == ("REFUND", "UNINSPECTED")

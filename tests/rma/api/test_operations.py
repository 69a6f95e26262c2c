"""Happy paths of the three operations in both formats, idempotency, and lookup options.

Every XML request sent and every XML response received is validated against the XSD.
"""

import datetime as dt
import json

import pytest
from django.db.models import F
from django.utils import timezone
from lxml import etree

from rma.apikeys import api_key_create
from rma.models import ActorType, ApiTransaction, Channel, Rma, RmaStatus
from tests.factories import (
    OrderFactory,
    OrderLineFactory,
    RmaFactory,
    RmaLineFactory,
    StoreFactory,
    SupplierFactory,
)
from tests.rma.api.conftest import FORMATS, NS, RESPONSE_ROOTS, Api, rma_body, xml_request, xsd

pytestmark = pytest.mark.django_db


def valid_response(reply, operation: str) -> dict:
    """The response as JSON-shaped data; XML is validated and mapped back field by field."""
    if reply.format == "json":
        assert reply.headers["Content-Type"] == "application/json"
        return json.loads(reply.content)
    assert reply.headers["Content-Type"] == "application/xml; charset=utf-8"
    root = reply.tree()
    schema = xsd()
    assert schema.validate(root), schema.error_log
    assert root.tag == f"{{{NS}}}{RESPONSE_ROOTS[operation]}"
    return reply.data()


def field(data: dict, fmt: str, json_key: str, xml_key: str):
    return data[json_key if fmt == "json" else xml_key]


@pytest.mark.parametrize("operation", ["checkEligibility", "generateRMA", "lookupRMA"])
def test_test_helper_builds_schema_valid_requests(order, operation):
    body = rma_body(order, (1, 1)) if operation == "generateRMA" else {"orderId": "1"}
    assert xsd().validate(etree.fromstring(xml_request(operation, body))), xsd().error_log


# ---- checkEligibility -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_check_eligibility_reports_every_line(api, order, fmt, method):
    order.delivered_at = timezone.now() - dt.timedelta(days=90)
    order.save()
    order.lines.filter(line_number=2).update(final_sale=False)
    body = {"orderId": order.order_id, "store": "TMSUS"} if method == "post" else None
    reply = api.call("checkEligibility", fmt, body, order_id=order.order_id, method=method)
    assert reply.status == 200
    data = valid_response(reply, "checkEligibility")
    if fmt == "json":
        assert data["orderId"] == order.order_id
        assert data["store"] == "TMSUS"
        assert data["eligible"] is False
        first = data["items"]["item"][0]
        assert first == {
            "lineNumber": "1",
            "itemId": "21-RITOCS004b",
            "orderedQuantity": 2,
            "returnableQuantity": 2,
            "eligible": False,
            "ineligibility": [
                {
                    "code": "RMA 1006",
                    "description": "Return Request is out of Return Window",
                    "overridable": True,
                }
            ],
        }
    else:
        assert (data["OrderId"], data["Store"], data["Eligible"]) == (
            order.order_id,
            "TMSUS",
            "false",
        )
        first = data["Items"]["Item"][0]
        assert first["LineNumber"] == "1"
        assert first["ReturnableQuantity"] == "2"
        assert first["Ineligibility"] == [
            {
                "Code": "RMA 1006",
                "Description": "Return Request is out of Return Window",
                "Overridable": "true",
            }
        ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_eligibility_marks_what_nobody_can_override(api, order, fmt):
    order.status = "PLACED"
    order.save()
    RmaLineFactory(rma__order=order, order_line=order.lines.get(line_number=1), quantity=2)
    reply = api.call("checkEligibility", fmt, order_id=order.order_id, method="get")
    data = valid_response(reply, "checkEligibility")
    items = data["items"]["item"] if fmt == "json" else data["Items"]["Item"]
    first = items[0]
    if fmt == "json":
        assert first["returnableQuantity"] == 0
        assert {(i["code"], i["overridable"]) for i in first["ineligibility"]} == {
            ("RMA 1007", False),
            ("RMA 1008", False),
        }
        assert data["eligible"] is False
    else:
        assert first["ReturnableQuantity"] == "0"
        assert {(i["Code"], i["Overridable"]) for i in first["Ineligibility"]} == {
            ("RMA 1007", "false"),
            ("RMA 1008", "false"),
        }


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_eligibility_post_without_body(api, order, fmt):
    reply = api.call("checkEligibility", fmt, b"", order_id=order.order_id)
    assert reply.status == 200
    data = valid_response(reply, "checkEligibility")
    assert field(data, fmt, "eligible", "Eligible") in (True, "true")


# ---- generateRMA ----------------------------------------------------------------------


@pytest.fixture
def dropship_order(order):
    supplier = SupplierFactory(
        store=order.store,
        return_address={
            "name": "Acme Returns",
            "line1": "9 Dock St",
            "line2": "Bay 4",
            "city": "Reno",
            "state": "NV",
            "postal_code": "89501",
            "country": "US",
        },
    )
    OrderLineFactory(order=order, line_number=3, item_id="ACME-1", quantity=1, supplier=supplier)
    return order


@pytest.mark.parametrize("fmt", FORMATS)
def test_generate_creates_one_rma_per_destination(api, dropship_order, fmt):
    order = dropship_order
    body = rma_body(
        order,
        (1, 2),
        (3, 1, "DEFECTIVE"),
        customerEmail="  ADA@example.com ",
        representativeInfo={"id": "agent-7", "name": "Grace"},
        comments="Customer called in.",
    )
    body["items"][0]["itemId"] = "21-RITOCS004b"
    reply = api.call("generateRMA", fmt, body, order_id=order.order_id)
    assert reply.status == 201, reply.content
    data = valid_response(reply, "generateRMA")
    rmas = list(Rma.objects.order_by(F("supplier_id").asc(nulls_first=True)))
    assert len(rmas) == 2
    assert all(rma.channel == Channel.API and rma.transaction_id == "txn-1" for rma in rmas)
    assert all(rma.resolution == "REFUND" for rma in rmas)

    if fmt == "json":
        details = data["rmadetails"]
        assert [d["rmaid"] for d in details] == [rma.rma_number for rma in rmas]
        store_rma, supplier_rma = details
        assert store_rma["status"] == "AUTHORIZED"
        assert store_rma["isRMAActive"] is True
        expiry = dt.datetime.strptime(store_rma["expiryDate"] + "Z", "%Y-%m-%dT%H:%M:%S.%f%z")
        assert expiry > timezone.now()
        # No category in the request: the store's description of the reason.
        assert store_rma["items"]["item"] == [
            {
                "lineNumber": "1",
                "itemId": "21-RITOCS004b",
                "returnQuantity": 2,
                "returnReasonCode": {"value": "TOO_SMALL", "category": "Too small"},
            }
        ]
        assert store_rma["returnLocation"]["whsCity"] == "King of Prussia"
        assert supplier_rma["returnLocation"] == {
            "whsName": "Acme Returns",
            "whsStreet": "9 Dock St, Bay 4",
            "whsCity": "Reno",
            "whsState": "NV",
            "whsPostalCode": "89501",
            "whsCountryCode": "US",
        }
        assert supplier_rma["items"]["item"][0]["returnReasonCode"] == {
            "value": "DEFECTIVE",
            "category": "Defective or damaged",
        }
        # Radial's top level: the first RMA (the store's warehouse).
        assert data["rmaid"] == store_rma["rmaid"]
        assert data["expiryDate"] == store_rma["expiryDate"]
        assert data["items"] == {
            "item": [{"lineNumber": "1", "itemId": "21-RITOCS004b", "returnQuantity": 2}]
        }
        assert data["returnLocation"] == store_rma["returnLocation"]
        assert "orderType" not in data and "storeType" not in data
        assert store_rma["label"]["status"] in ("PENDING", "NOT_REQUIRED")
        assert "packageInfo" not in store_rma
    else:
        details = data["RmaDetails"]
        assert [d["Rmaid"] for d in details] == [rma.rma_number for rma in rmas]
        assert details[1]["ReturnLocation"]["WhsStreet"] == "9 Dock St, Bay 4"
        assert details[0]["IsRMAActive"] == "true"
        assert details[0]["Items"]["Item"][0]["ReturnReasonCode"]["Category"] == "Too small"
        assert data["Rmaid"] == details[0]["Rmaid"]

    created = rmas[0].events.get(type="rma.created")
    assert created.actor_type == ActorType.API
    assert "OMS" in created.actor_label
    assert created.data["api"] == {
        "sourceName": "OMS",
        "returnType": "RETURN",
        "requestTime": "2026-11-20T10:00:00Z",
        "transactionId": "txn-1",
        "representativeInfo": {"id": "agent-7", "name": "Grace"},
    }
    assert rmas[0].customer_comment == "Customer called in."


def test_xml_request_elements_may_come_in_any_order_and_be_indented(api, order):
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<RmaRequest xmlns="urn:returns-portal:rma:1.0">
  <Items>
    <Item>
      <ReturnReason><Code>TOO_SMALL</Code></ReturnReason>
      <ReturnQuantity> 1 </ReturnQuantity>
      <LineNumber>2</LineNumber>
    </Item>
  </Items>
  <TransactionId>
    txn-xml
  </TransactionId>
  <Resolution>STORE_CREDIT</Resolution>
  <RepresentativeInfo/>
</RmaRequest>"""
    reply = api.call("generateRMA", "xml", body, order_id=order.order_id)
    assert reply.status == 201, reply.content
    rma = Rma.objects.get()
    assert (rma.transaction_id, rma.resolution) == ("txn-xml", "STORE_CREDIT")
    assert [line.order_line.line_number for line in rma.lines.all()] == [2]


# ---- idempotency ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_transaction_replays_the_first_response(api, order, fmt):
    body = rma_body(order, (1, 1))
    first = api.call("generateRMA", fmt, body, order_id=order.order_id)
    again = api.call("generateRMA", fmt, body, order_id=order.order_id)
    assert first.status == again.status == 201
    assert again.content == first.content
    assert Rma.objects.count() == 1
    record = ApiTransaction.objects.get()
    assert (record.transaction_id, record.response_status) == ("txn-1", 201)


def test_replay_is_format_independent(api, order):
    body = rma_body(order, (1, 1))
    first = api.call("generateRMA", "json", body, order_id=order.order_id)
    again = api.call("generateRMA", "xml", body, order_id=order.order_id)
    assert again.status == 201
    rmaid = json.loads(first.content)["rmadetails"][0]["rmaid"]
    assert again.data()["RmaDetails"][0]["Rmaid"] == rmaid
    assert Rma.objects.count() == 1


def test_key_order_and_whitespace_do_not_change_the_canonical_body(api, order):
    body = rma_body(order, (1, 1))
    first = api.call("generateRMA", "json", body, order_id=order.order_id)
    shuffled = json.dumps(dict(reversed(list(body.items()))), indent=4).encode()
    again = api.call("generateRMA", "json", shuffled, order_id=order.order_id)
    assert again.status == 201
    assert again.content == first.content


def test_same_body_for_another_order_is_a_different_request(api, order, store):
    other = OrderFactory(store=store, order_id="3000179399")
    OrderLineFactory(order=other, line_number=1)
    body = rma_body(order, (1, 1))
    del body["orderId"]
    assert api.call("generateRMA", "json", body, order_id=order.order_id).status == 201
    reply = api.call("generateRMA", "json", body, order_id=other.order_id)
    assert reply.status == 409
    assert reply.fault()["code"] == "RMA 1022"
    # Naming the order in the body or not is the same request.
    body["orderId"] = order.order_id
    again = api.call("generateRMA", "json", body, order_id=order.order_id)
    assert again.status == 201
    assert Rma.objects.count() == 1


def test_transaction_ids_are_per_store(api, order, client):
    other_store = StoreFactory(code="OTHER")
    other_order = OrderFactory(store=other_store, order_id=order.order_id)
    OrderLineFactory(order=other_order, line_number=1)
    _, other_key = api_key_create(store=other_store, name="OMS")
    other_api = Api(client=client, store=other_store, key=other_key)
    assert api.call("generateRMA", "json", rma_body(order), order_id=order.order_id).status == 201
    reply = other_api.call("generateRMA", "json", rma_body(other_order), order_id=order.order_id)
    assert reply.status == 201
    assert Rma.objects.count() == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_refused_request_does_not_bind_its_transaction_id(api, order, fmt):
    refused = api.call("generateRMA", fmt, rma_body(order, (1, 9)), order_id=order.order_id)
    assert refused.status == 422
    corrected = api.call("generateRMA", fmt, rma_body(order, (1, 1)), order_id=order.order_id)
    assert corrected.status == 201
    assert Rma.objects.count() == 1


def test_replay_survives_status_changes_of_the_rma(api, order):
    body = rma_body(order, (1, 1))
    first = api.call("generateRMA", "json", body, order_id=order.order_id)
    Rma.objects.update(status=RmaStatus.CANCELLED)
    again = api.call("generateRMA", "json", body, order_id=order.order_id)
    assert again.content == first.content
    assert Rma.objects.count() == 1


def test_a_duplicate_refused_on_its_own_replays_the_first_response(api, order):
    # Line 2 has one unit: the duplicate alone would be RMA 1007.
    body = rma_body(order, (2, 1))
    first = api.call("generateRMA", "json", body, order_id=order.order_id)
    again = api.call("generateRMA", "json", body, order_id=order.order_id)
    assert again.status == 201
    assert again.content == first.content
    assert Rma.objects.count() == 1


def test_a_bound_transaction_id_sent_for_an_unknown_order_is_1022(api, order):
    assert api.call("generateRMA", "json", rma_body(order), order_id=order.order_id).status == 201
    body = {**rma_body(order), "orderId": "NO-SUCH-ORDER"}
    reply = api.call("generateRMA", "json", body, order_id="NO-SUCH-ORDER")
    assert reply.status == 409
    assert reply.fault()["code"] == "RMA 1022"


def test_a_taken_rma_number_is_drawn_again(api, order, monkeypatch):
    taken = RmaFactory(order=order).rma_number
    drawn = iter([taken, "NEWN-UMBE-R2AB"])
    monkeypatch.setattr("rma.services.rma_request.new_rma_number", lambda: next(drawn))
    reply = api.call("generateRMA", "json", rma_body(order), order_id=order.order_id)
    assert reply.status == 201
    assert json.loads(reply.content)["rmaid"] == "NEWN-UMBE-R2AB"
    assert ApiTransaction.objects.count() == 1


# ---- lookupRMA ------------------------------------------------------------------------


@pytest.fixture
def two_rmas(api, dropship_order):
    body = rma_body(dropship_order, (1, 1), (3, 1))
    reply = api.call("generateRMA", "json", body, order_id=dropship_order.order_id)
    assert reply.status == 201
    return [d["rmaid"] for d in json.loads(reply.content)["rmadetails"]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_lookup_without_rmaid_lists_every_rma_of_the_order(api, dropship_order, two_rmas, fmt):
    reply = api.call("lookupRMA", fmt, {"orderId": dropship_order.order_id}, order_id="3000179302")
    assert reply.status == 200
    data = valid_response(reply, "lookupRMA")
    if fmt == "json":
        assert [d["rmaid"] for d in data["rmadetails"]] == two_rmas
        assert all("packageInfo" not in d for d in data["rmadetails"])
    else:
        assert [d["Rmaid"] for d in data["RmaDetails"]] == two_rmas
        assert all("PackageInfo" not in d for d in data["RmaDetails"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_lookup_by_rmaid_as_typed(api, dropship_order, two_rmas, fmt):
    typed = two_rmas[1].replace("-", " ").lower()
    reply = api.call("lookupRMA", fmt, {"rmaid": typed}, order_id=dropship_order.order_id)
    assert reply.status == 200
    data = valid_response(reply, "lookupRMA")
    details = data["rmadetails"] if fmt == "json" else data["RmaDetails"]
    assert [field(d, fmt, "rmaid", "Rmaid") for d in details] == [two_rmas[1]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_lookup_with_package_info(api, order, fmt):
    assert (
        api.call("generateRMA", "json", rma_body(order, (1, 2)), order_id="3000179302").status
        == 201
    )
    body = {"packageInfoRequired": True}
    reply = api.call("lookupRMA", fmt, body, order_id=order.order_id)
    assert reply.status == 200
    data = valid_response(reply, "lookupRMA")
    # Factory lines: 1.2 lb, 16 x 12 x 2 in, 39.99 each; two units.
    if fmt == "json":
        package = data["rmadetails"][0]["packageInfo"]
        assert package == {
            "weight": "2.4",
            "weightUnit": "lb",
            "length": "16",
            "width": "12",
            "height": "4",
            "dimensionUnit": "in",
            "dimensionalWeight": "5.53",
            "invoiceAmount": "79.98",
            "currency": "USD",
            "eligible": True,
            "ineligibility": [],
        }
    else:
        package = data["RmaDetails"][0]["PackageInfo"]
        assert (package["Weight"], package["Height"], package["InvoiceAmount"]) == (
            "2.4",
            "4",
            "79.98",
        )
        assert package["Eligible"] == "true"


@pytest.mark.parametrize("fmt", FORMATS)
def test_lookup_reports_package_failures_inside_package_info(api, order, fmt):
    order.lines.update(weight=0)
    assert (
        api.call("generateRMA", "json", rma_body(order, (1, 1)), order_id="3000179302").status
        == 201
    )
    reply = api.call("lookupRMA", fmt, {"packageInfoRequired": True}, order_id=order.order_id)
    assert reply.status == 200
    data = valid_response(reply, "lookupRMA")
    if fmt == "json":
        package = data["rmadetails"][0]["packageInfo"]
        assert package["eligible"] is False
        assert package["ineligibility"] == [
            {"code": "RMA 1011", "description": "Weight can't be 0 or less than 0"}
        ]
    else:
        package = data["RmaDetails"][0]["PackageInfo"]
        assert package["Ineligibility"] == [
            {"Code": "RMA 1011", "Description": "Weight can't be 0 or less than 0"}
        ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_lookup_of_an_order_without_rmas_is_an_empty_list(api, order, fmt):
    reply = api.call("lookupRMA", fmt, {"rmaid": ""}, order_id=order.order_id)
    assert reply.status == 200
    data = valid_response(reply, "lookupRMA")
    assert data.get("rmadetails" if fmt == "json" else "RmaDetails", []) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_inactive_rma_is_reported_as_such(api, order, fmt):
    assert (
        api.call("generateRMA", "json", rma_body(order, (1, 1)), order_id="3000179302").status
        == 201
    )
    Rma.objects.update(status=RmaStatus.CANCELLED)
    reply = api.call("lookupRMA", fmt, {}, order_id=order.order_id)
    data = valid_response(reply, "lookupRMA")
    details = data["rmadetails"] if fmt == "json" else data["RmaDetails"]
    assert field(details[0], fmt, "status", "Status") == "CANCELLED"
    assert field(details[0], fmt, "isRMAActive", "IsRMAActive") in (False, "false")

"""Every row of the error table of docs/api.md, in both formats: code, description, status."""

import datetime as dt
import logging

import pytest
from django.http import Http404
from django.utils import timezone
from rest_framework.exceptions import NotAcceptable, ParseError, Throttled, UnsupportedMediaType

from rma.api.views import GenerateRmaView
from rma.errors import DESCRIPTIONS
from rma.models import ApiTransaction, OrderStatus, Rma
from rma.numbers import new_rma_number
from tests.factories import RmaFactory, RmaLineFactory
from tests.rma.api.conftest import FORMATS, api_url, rma_body

pytestmark = pytest.mark.django_db


def assert_fault(reply, code: str, status: int) -> dict:
    assert reply.status == status, reply.content
    fault = reply.fault()
    assert fault["code"] == code
    assert fault["description"] == DESCRIPTIONS[code]
    assert dt.datetime.fromisoformat(fault["createTimestamp"]).tzinfo is not None
    expected_type = "application/json" if reply.format == "json" else "application/xml"
    assert reply.headers["Content-Type"].startswith(expected_type)
    return fault


def nothing_created():
    return not Rma.objects.exists() and not ApiTransaction.objects.exists()


# ---- RMA 1001 -----------------------------------------------------------------------

INVALID_BODIES = {
    "json": [
        pytest.param(b'{"transactionId": "t", "items": [', id="truncated"),
        pytest.param(b"[1, 2]", id="not-an-object"),
        pytest.param(b"", id="empty"),
        pytest.param(b'{"transactionId": NaN, "items": []}', id="nan"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
    ],
    "xml": [
        pytest.param(b"<RmaRequest xmlns='urn:returns-portal:rma:1.0'>", id="unclosed"),
        pytest.param(b"", id="empty"),
        pytest.param(b"{}", id="json-body"),
        pytest.param(b"<RmaRequest><TransactionId>t</TransactionId></RmaRequest>", id="no-ns"),
    ],
}


@pytest.mark.parametrize(
    ("fmt", "body"),
    [(fmt, body) for fmt in FORMATS for body in INVALID_BODIES[fmt]],
)
def test_undecodable_body_is_1001(api, order, fmt, body):
    reply = api.call("generateRMA", fmt, body, order_id=order.order_id)
    fault = assert_fault(reply, "RMA 1001", 400)
    assert fault.get("detail") or reply.format == "xml"
    assert nothing_created()


def _without(key):
    def change(body):
        del body[key]

    return change


def _item(key, value):
    def change(body):
        body["items"][0][key] = value

    return change


def _field(key, value):
    def change(body):
        body[key] = value

    return change


# Documents that parse but break the request schema: the XML variants are refused by
# the XSD, the JSON ones by the strict serializers.
SCHEMA_VIOLATIONS = [
    pytest.param(_without("transactionId"), id="missing-transactionId"),
    pytest.param(_without("items"), id="missing-items"),
    pytest.param(_field("items", []), id="no-items"),
    pytest.param(_item("lineNumber", "one"), id="lineNumber-text"),
    pytest.param(_item("returnQuantity", 1.5), id="quantity-fraction"),
    pytest.param(_item("returnQuantity", 2**40), id="quantity-overflow"),
    pytest.param(_item("returnReason", {"category": "FIT"}), id="reason-without-code"),
    pytest.param(_field("transactionId", "x" * 101), id="transactionId-too-long"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("change", SCHEMA_VIOLATIONS)
def test_schema_invalid_request_is_1001(api, order, fmt, change):
    body = rma_body(order, (1, 1))
    change(body)
    reply = api.call("generateRMA", fmt, body, order_id=order.order_id)
    assert_fault(reply, "RMA 1001", 400)
    assert nothing_created()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"transactionId": 7}, id="number-for-string"),
        pytest.param({"items": [{"lineNumber": True}]}, id="bool-for-int"),
        pytest.param({"items": [{"lineNumber": "one"}]}, id="text-for-int"),
        pytest.param({"items": [{"lineNumber": "-1"}]}, id="signed-string-for-int"),
        pytest.param({"items": [{"returnQuantity": "1.0"}]}, id="decimal-string-for-int"),
        pytest.param({"items": [{"returnQuantity": " 1"}]}, id="padded-string-for-int"),
        pytest.param({"items": [{"lineNumber": "\u0661"}]}, id="non-ascii-digit"),
        pytest.param({"items": [{"lineNumber": ""}]}, id="empty-string-for-int"),
        pytest.param({"returnItemsReceived": "true"}, id="string-for-bool"),
        pytest.param({"orderType": 1}, id="number-for-orderType"),
        pytest.param({"transactionId": None}, id="null-required"),
        pytest.param({"representativeInfo": "Grace"}, id="string-for-object"),
    ],
)
def test_json_wrong_types_are_1001_not_coerced(api, order, body):
    """Known fields keep their types; only digit strings pass for the two numbers."""
    request = rma_body(order, (1, 1))
    items = body.pop("items", None)
    if items:
        request["items"][0].update(items[0])
    request.update(body)
    reply = api.call("generateRMA", "json", request, order_id=order.order_id)
    assert_fault(reply, "RMA 1001", 400)
    assert nothing_created()


@pytest.mark.parametrize("fmt", FORMATS)
def test_lookup_boolean_must_be_a_boolean(api, order, fmt):
    body = {"packageInfoRequired": "yes"}
    reply = api.call("lookupRMA", fmt, body, order_id=order.order_id)
    assert_fault(reply, "RMA 1001", 400)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("checkEligibility", {"orderId": "OTHER"}),
        ("checkEligibility", {"store": "OTHER"}),
        ("lookupRMA", {"orderId": "OTHER"}),
        ("generateRMA", None),
    ],
)
def test_body_must_repeat_the_url(api, order, fmt, operation, body):
    if body is None:
        body = rma_body(order, (1, 1))
        body["orderId"] = "OTHER"
    reply = api.call(operation, fmt, body, order_id=order.order_id)
    assert_fault(reply, "RMA 1001", 400)
    assert nothing_created()


def test_xml_root_must_be_the_operations_request(api, order):
    # A lookup document sent to generateRMA is valid against the XSD, not for this route.
    body = (
        b"<RmaLookupRequest xmlns='urn:returns-portal:rma:1.0'>"
        b"<OrderId>3000179302</OrderId></RmaLookupRequest>"
    )
    reply = api.call("generateRMA", "xml", body, order_id=order.order_id)
    assert_fault(reply, "RMA 1001", 400)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("change", "why"),
    [
        (_field("resolution", "REPAIR"), "Resolution"),
        (lambda body: body["items"].append(dict(body["items"][0])), "only once"),
    ],
)
def test_request_errors_of_the_service_are_1001_with_detail(api, order, fmt, change, why):
    body = rma_body(order, (1, 1))
    change(body)
    reply = api.call("generateRMA", fmt, body, order_id=order.order_id)
    assert_fault(reply, "RMA 1001", 400)
    detail = reply.data()["fault"]["detail"] if fmt == "json" else reply.data()["Detail"]
    assert why in detail
    assert nothing_created()


@pytest.mark.parametrize("fmt", FORMATS)
def test_oversized_body_is_413_with_1001(api, order, fmt, settings):
    settings.API_MAX_BODY_BYTES = 1024
    body = rma_body(order, (1, 1), comments="x" * 2000)
    reply = api.call("generateRMA", fmt, body, order_id=order.order_id)
    assert_fault(reply, "RMA 1001", 413)
    assert nothing_created()


# ---- RMA 1002, 1003, 1021, 1009 ----------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("operation", ["checkEligibility", "generateRMA", "lookupRMA"])
@pytest.mark.parametrize("key", ["default", None], ids=["with-key", "without-key"])
def test_unknown_store_is_1002_for_any_caller(api, order, fmt, operation, key):
    body = rma_body(order, (1, 1)) if operation == "generateRMA" else {}
    reply = api.call(operation, fmt, body, order_id=order.order_id, store_code="NOPE", key=key)
    assert_fault(reply, "RMA 1002", 404)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_eligibility_of_unknown_order_is_1003(api, order, fmt, method):
    reply = api.call("checkEligibility", fmt, order_id="404404", method=method)
    assert_fault(reply, "RMA 1003", 404)


@pytest.mark.parametrize("fmt", FORMATS)
def test_generate_for_unknown_order_is_1003(api, order, fmt):
    body = rma_body(order, (1, 1))
    body["orderId"] = "404404"
    reply = api.call("generateRMA", fmt, body, order_id="404404")
    assert_fault(reply, "RMA 1003", 404)
    assert nothing_created()


@pytest.mark.parametrize("fmt", FORMATS)
def test_generate_with_another_customers_email_is_1003(api, order, fmt):
    body = rma_body(order, (1, 1), customerEmail="mallory@example.com")
    reply = api.call("generateRMA", fmt, body, order_id=order.order_id)
    assert_fault(reply, "RMA 1003", 404)
    assert nothing_created()


@pytest.mark.parametrize("fmt", FORMATS)
def test_lookup_of_unknown_order_is_1021(api, order, fmt):
    reply = api.call("lookupRMA", fmt, {}, order_id="404404")
    assert_fault(reply, "RMA 1021", 404)


def _mistyped_check_character(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("A" if last != "A" else "B")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["unknown", "wrong-check-character", "other-order", "garbage"])
def test_lookup_of_unknown_rmaid_is_1009(api, order, fmt, kind):
    rma = RmaLineFactory(rma__order=order).rma
    other = RmaFactory(order__store=order.store)
    rmaid = {
        "unknown": new_rma_number(),
        "wrong-check-character": _mistyped_check_character(rma.rma_number),
        "other-order": other.rma_number,
        "garbage": "<script>",
    }[kind]
    reply = api.call("lookupRMA", fmt, {"rmaid": rmaid}, order_id=order.order_id)
    assert_fault(reply, "RMA 1009", 404)


# ---- RMA 1005 and the eligibility codes (422, every failure listed) ------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "item",
    [
        pytest.param({"lineNumber": 99}, id="line-not-on-order"),
        pytest.param({"lineNumber": 1, "itemId": "NOT-THIS-SKU"}, id="item-mismatch"),
    ],
)
def test_item_not_on_the_order_is_1005(api, order, fmt, item):
    body = rma_body(order, (1, 1))
    body["items"][0].update(item)
    reply = api.call("generateRMA", fmt, body, order_id=order.order_id)
    fault = assert_fault(reply, "RMA 1005", 422)
    assert fault["items"] == [
        {
            "lineNumber": str(item["lineNumber"]),
            "code": "RMA 1005",
            "description": DESCRIPTIONS["RMA 1005"],
        }
    ]
    assert nothing_created()


def _deliver_long_ago(order):
    order.delivered_at = timezone.now() - dt.timedelta(days=90)
    order.save()


def _policy(**values):
    def change(order):
        order.store.policy = values
        order.store.save()

    return change


def _line(**values):
    def change(order):
        order.lines.filter(line_number=1).update(**values)

    return change


def _status(status):
    def change(order):
        order.status = status
        order.save()

    return change


def _hold_everything(order):
    RmaLineFactory(rma__order=order, order_line=order.lines.get(line_number=1), quantity=2)


INELIGIBLE = [
    pytest.param("RMA 1006", _deliver_long_ago, 1, id="1006-window"),
    pytest.param("RMA 1007", _hold_everything, 1, id="1007-nothing-left"),
    pytest.param("RMA 1007", None, 3, id="1007-above-returnable"),
    pytest.param("RMA 1007", None, 0, id="1007-zero"),
    pytest.param("RMA 1007", None, -1, id="1007-negative"),
    pytest.param("RMA 1008", _status(OrderStatus.PLACED), 1, id="1008-status"),
    pytest.param("RMA 1015", _policy(allowed_countries=["CA"]), 1, id="1015-country"),
    pytest.param("RMA 1016", _line(hazmat=True), 1, id="1016-hazmat"),
    pytest.param("RMA 1017", _policy(excluded_states=["pa"]), 1, id="1017-state"),
    pytest.param("RMA 1019", _line(final_sale=True), 1, id="1019-final-sale"),
    pytest.param("RMA 1019", _policy(excluded_items=["21-RITOCS004b"]), 1, id="1019-item"),
    pytest.param("RMA 1020", _policy(excluded_departments=["accessories"]), 1, id="1020-dept"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("code", "make_ineligible", "quantity"), INELIGIBLE)
def test_ineligible_line_is_refused_with_its_code(api, order, fmt, code, make_ineligible, quantity):
    if make_ineligible:
        make_ineligible(order)
    rmas_before = Rma.objects.count()
    reply = api.call("generateRMA", fmt, rma_body(order, (1, quantity)), order_id=order.order_id)
    fault = assert_fault(reply, code, 422)
    assert {"lineNumber": "1", "code": code, "description": DESCRIPTIONS[code]} in fault["items"]
    assert Rma.objects.count() == rmas_before
    assert not ApiTransaction.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_refusal_lists_every_failure_of_every_line(api, order, fmt):
    order.lines.filter(line_number=1).update(final_sale=True, hazmat=True)
    body = rma_body(order, (1, 1), (2, 5), (7, 1))
    reply = api.call("generateRMA", fmt, body, order_id=order.order_id)
    fault = assert_fault(reply, "RMA 1005", 422)
    pairs = sorted((item["lineNumber"], item["code"]) for item in fault["items"])
    assert pairs == [("1", "RMA 1016"), ("1", "RMA 1019"), ("2", "RMA 1007"), ("7", "RMA 1005")]
    assert all(item["description"] == DESCRIPTIONS[item["code"]] for item in fault["items"])


# ---- RMA 1022 -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_transaction_id_reused_with_another_body_is_1022(api, order, fmt):
    first = api.call("generateRMA", fmt, rma_body(order, (1, 1)), order_id=order.order_id)
    assert first.status == 201
    changed = rma_body(order, (1, 2))
    reply = api.call("generateRMA", fmt, changed, order_id=order.order_id)
    assert_fault(reply, "RMA 1022", 409)
    assert Rma.objects.count() == 1


# ---- RMA 1004 -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_unexpected_error_is_1004_with_request_id_and_no_internals(
    api, order, fmt, monkeypatch, caplog
):
    def explode(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr("rma.api.operations.evaluate_order", explode)
    with caplog.at_level(logging.ERROR, logger="rma.api.views"):
        reply = api.call("checkEligibility", fmt, order_id=order.order_id, method="get")
    fault = assert_fault(reply, "RMA 1004", 500)
    request_id = reply.headers["X-Request-ID"]
    assert fault["requestId"] == request_id
    assert b"hunter2" not in reply.content
    assert b"Traceback" not in reply.content
    [record] = [r for r in caplog.records if request_id in r.getMessage()]
    assert record.exc_info is not None
    assert "hunter2" in str(record.exc_info[1])


# ---- DRF's own refusals come out as faults too ---------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("operation", "method", "allowed"),
    [
        ("generateRMA", "get", "POST"),
        ("lookupRMA", "put", "POST"),
        ("checkEligibility", "delete", "GET, POST"),
        ("checkEligibility", "options", "GET, POST"),
    ],
)
def test_wrong_method_is_a_405_fault(api, order, fmt, operation, method, allowed):
    reply = api.call(operation, fmt, {}, order_id=order.order_id, method=method)
    assert reply.status == 405
    fault = reply.fault()
    assert (fault["code"], fault["description"]) == ("405", "Method Not Allowed")
    assert reply.headers["Allow"] == allowed


@pytest.mark.parametrize("fmt", FORMATS)
def test_accept_header_never_causes_406(api, order, fmt):
    url = api_url(order.store.code, order.order_id, "checkEligibility", fmt)
    response = api.client.get(url, headers={"apikey": api.key, "Accept": "text/csv"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("exception", "code", "status"),
    [
        (ParseError("bad"), "RMA 1001", 400),
        (UnsupportedMediaType("text/csv"), "RMA 1001", 415),
        (NotAcceptable(), "406", 406),
        (Throttled(), "429", 429),
        (Http404(), "404", 404),
    ],
)
def test_drf_and_django_exceptions_become_faults(exception, code, status):
    fault = GenerateRmaView().fault_for(exception)
    assert (fault.code, fault.status) == (code, status)


# ---- input no database can compare is a fault, never a 500 ---------------------------


@pytest.mark.parametrize(
    ("path", "code", "status"),
    [
        ("/v1.0/seller/TM%00US/return-order/create/1/checkEligibility.json", "RMA 1002", 404),
        ("/v1.0/seller/TMSUS/return-order/create/1%002/checkEligibility.json", "RMA 1003", 404),
        ("/v1.0/sellers/TMSUS/orders/1%002/returns/checkEligibility/new", "RMA 1003", 404),
        ("/v1.0/sellers/TM%00US/orders/12/returns/checkEligibility/new", "RMA 1002", 404),
    ],
)
def test_nul_characters_in_the_url_name_nothing(api, order, path, code, status):
    response = api.client.get(path, headers={"apikey": api.key, "Accept": "application/json"})
    assert response.status_code == status, response.content
    assert response.json()["fault"]["code"] == code


@pytest.mark.parametrize(
    ("operation", "code"), [("generateRMA", "RMA 1003"), ("lookupRMA", "RMA 1021")]
)
def test_nul_characters_in_the_order_number_of_a_post(api, order, operation, code):
    body = rma_body(order, (1, 1)) if operation == "generateRMA" else {}
    body.pop("orderId", None)
    reply = api.call(operation, "json", body, order_id="1%002")
    assert_fault(reply, code, 404)
    assert nothing_created()


@pytest.mark.parametrize("fmt", FORMATS)
def test_nul_characters_in_the_body_or_the_key_are_refused(api, order, fmt):
    if fmt == "json":
        reply = api.call("generateRMA", fmt, rma_body(order, transaction_id="t\x00"),
                         order_id=order.order_id)  # fmt: skip
        assert_fault(reply, "RMA 1001", 400)
    reply = api.call("checkEligibility", fmt, order_id=order.order_id, method="get", key="k\x00")
    assert reply.status == 401
    assert nothing_created()

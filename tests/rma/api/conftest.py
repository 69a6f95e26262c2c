"""Fixtures and helpers for the RMA service API tests (both formats).

The XML helpers here are written independently of `rma.api.xml_codec`, so a test
checks the codec against the documented format rather than against itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from django.test import Client
from lxml import etree

from rma.apikeys import api_key_create
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory

NS = "urn:returns-portal:rma:1.0"
XSD_PATH = Path(__file__).resolve().parents[3] / "rma" / "api" / "schema" / "rma.xsd"
FORMATS = ("json", "xml")
REQUEST_ROOTS = {
    "checkEligibility": "ReturnEligibilityRequest",
    "generateRMA": "RmaRequest",
    "lookupRMA": "RmaLookupRequest",
}
RESPONSE_ROOTS = {
    "checkEligibility": "ReturnEligibilityResponse",
    "generateRMA": "RmaResponse",
    "lookupRMA": "RmaLookupResponse",
}


@cache
def xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


def _capitalised(key: str) -> str:
    return key[0].upper() + key[1:]


def _xml_children(parent, data: dict) -> None:
    for key, value in data.items():
        if value is None:
            continue
        if key == "items" and isinstance(value, list):
            items = etree.SubElement(parent, f"{{{NS}}}Items")
            for entry in value:
                _xml_children(etree.SubElement(items, f"{{{NS}}}Item"), entry)
            continue
        child = etree.SubElement(parent, f"{{{NS}}}{_capitalised(key)}")
        if isinstance(value, dict):
            _xml_children(child, value)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        else:
            child.text = str(value)


def xml_request(operation: str, data: dict) -> bytes:
    """A JSON request object as the XML request of `operation`."""
    root = etree.Element(f"{{{NS}}}{REQUEST_ROOTS[operation]}", nsmap={None: NS})
    _xml_children(root, data)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


REPEATED = frozenset({"Item", "RmaDetails", "Ineligibility"})


def xml_value(element):
    """An XML response element as plain data: text leaves, lists for repeated names."""
    children = list(element)
    if not children:
        return element.text or ""
    result: dict = {}
    for child in children:
        name = etree.QName(child).localname
        if name in REPEATED:
            result.setdefault(name, []).append(xml_value(child))
        else:
            result[name] = xml_value(child)
    return result


@dataclass
class Reply:
    """One API response, read in its format."""

    status: int
    format: str
    raw: object

    @property
    def headers(self):
        return self.raw.headers

    @property
    def content(self) -> bytes:
        return self.raw.content

    def tree(self):
        return etree.fromstring(self.content)

    def data(self):
        if self.format == "json":
            return json.loads(self.content)
        return xml_value(self.tree())

    def fault(self) -> dict:
        """The fault as {"code", "description", "createTimestamp", ...} in either format."""
        if self.format == "json":
            return json.loads(self.content)["fault"]
        root = self.tree()
        assert root.tag == f"{{{NS}}}Fault", self.content
        assert xsd().validate(root), xsd().error_log
        data = xml_value(root)
        fault = {
            "code": data["Code"],
            "description": data["Description"],
            "createTimestamp": data["CreateTimestamp"],
        }
        if "RequestId" in data:
            fault["requestId"] = data["RequestId"]
        for echoed in ("OrderType", "StoreType"):
            if echoed in data:
                fault[echoed[0].lower() + echoed[1:]] = data[echoed]
        if "Items" in data:
            fault["items"] = [
                {
                    "lineNumber": item["LineNumber"],
                    "code": item["Code"],
                    "description": item["Description"],
                }
                for item in data["Items"]["Item"]
            ]
        return fault


def api_url(store_code: str, order_id: str, operation: str, fmt: str) -> str:
    return f"/v1.0/seller/{store_code}/return-order/create/{order_id}/{operation}.{fmt}"


@dataclass
class Api:
    client: Client
    store: object
    key: str

    def call(
        self,
        operation: str,
        fmt: str,
        body: dict | bytes | None = None,
        *,
        order_id: str,
        store_code: str | None = None,
        key: str | None = "default",
        method: str = "post",
    ) -> Reply:
        headers = {}
        key = self.key if key == "default" else key
        if key is not None:
            headers["apikey"] = key
        url = api_url(store_code or self.store.code, order_id, operation, fmt)
        if isinstance(body, dict):
            payload = json.dumps(body).encode() if fmt == "json" else xml_request(operation, body)
        else:
            payload = body or b""
        content_type = "application/json" if fmt == "json" else "application/xml"
        if method == "get":
            response = self.client.get(url, headers=headers)
        else:
            # generic(): the body goes out exactly as given (post() would re-encode JSON).
            response = self.client.generic(
                method.upper(), url, payload, content_type=content_type, headers=headers
            )
        return Reply(response.status_code, fmt, response)


@pytest.fixture
def store():
    return StoreFactory(code="TMSUS")


@pytest.fixture
def raw_key(store):
    _, raw = api_key_create(store=store, name="OMS")
    return raw


@pytest.fixture
def api(client, store, raw_key):
    return Api(client=client, store=store, key=raw_key)


@pytest.fixture
def order(store):
    order = OrderFactory(store=store, order_id="3000179302")
    OrderLineFactory(order=order, line_number=1, item_id="21-RITOCS004b", quantity=2)
    OrderLineFactory(order=order, line_number=2, item_id="SKU-2", quantity=1)
    return order


def rma_body(order, *items, transaction_id: str = "txn-1", **fields) -> dict:
    """A generateRMA request; each item is (line number, quantity[, reason])."""
    return {
        "orderId": order.order_id,
        "store": order.store.code,
        "transactionId": transaction_id,
        "requestTime": "2026-11-20T10:00:00Z",
        "sourceName": "OMS",
        "returnType": "RETURN",
        "items": [
            {
                "lineNumber": item[0],
                "returnQuantity": item[1],
                "returnReason": {"code": item[2] if len(item) > 2 else "TOO_SMALL"},
            }
            for item in items or [(1, 1)]
        ],
        **fields,
    }

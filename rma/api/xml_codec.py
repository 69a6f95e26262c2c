"""The XML format of the RMA service API: hardened parsing, XSD validation, rendering.

Requests are parsed only by `parse_document`: lxml with entities, DTD loading and
network access switched off, huge-tree limits kept, and any document that carries a
DOCTYPE refused outright, so no entity (internal or external) is ever declared, let
alone expanded. The tree is then validated against `schema/rma.xsd` and converted to
the dict the JSON format would have produced, so both formats share one validation
and one hash for idempotency (see docs/decisions.md).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lxml import etree

from .faults import invalid_request

NAMESPACE = "urn:returns-portal:rma:1.0"
SCHEMA_PATH = Path(__file__).parent / "schema" / "rma.xsd"
CONTENT_TYPE = "application/xml; charset=utf-8"

# Element names that are not the JSON key with a capital first letter.
ELEMENT_FOR_KEY = {"rmadetails": "RmaDetails"}
KEY_FOR_ELEMENT = {element: key for key, element in ELEMENT_FOR_KEY.items()}
# Request elements whose children form a list (`<Items><Item/>…</Items>` → `"items": [...]`).
LIST_ELEMENTS = frozenset({"Items"})
# Request elements that are objects even when empty (their children are all optional).
OBJECT_ELEMENTS = frozenset(
    {"ReturnEligibilityRequest", "RmaRequest", "RmaLookupRequest", "RepresentativeInfo"}
)
INTEGER_ELEMENTS = frozenset({"LineNumber", "ReturnQuantity"})
BOOLEAN_ELEMENTS = frozenset({"PackageInfoRequired"})
# The fault's elements in schema order (the JSON fault lists `createTimestamp` last).
FAULT_ORDER = ("createTimestamp", "code", "description", "detail", "requestId", "items")
# Characters XML 1.0 cannot carry; stripped from output rather than failing the response.
INVALID_XML_CHARACTERS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def hardened_parser() -> etree.XMLParser:
    """A parser that never resolves entities, loads a DTD or touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


@cache
def xml_schema() -> etree.XMLSchema:
    """The shipped XSD (trusted, read from the package; parsed once per process)."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), hardened_parser()))


def qualified(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def parse_document(body: bytes, *, root: str) -> etree._Element:
    """Parse and validate one request document whose root element must be `root`.

    Raises RMA 1001 for anything that is not a well-formed, DOCTYPE-free, schema-valid
    document with that root.
    """
    if not body.strip():
        raise invalid_request("The request body is empty; an XML document is required.")
    # Refused before parsing too (defence in depth; the check after parsing also covers
    # documents in encodings where these bytes do not appear literally).
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise invalid_request("DOCTYPE declarations are not accepted.")
    try:
        tree = etree.fromstring(body, hardened_parser()).getroottree()
    except etree.XMLSyntaxError as error:
        raise invalid_request(f"Malformed XML: {error.msg}") from None
    except (ValueError, TypeError) as error:  # e.g. an unsupported encoding declaration
        raise invalid_request(f"Malformed XML: {error}") from None
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise invalid_request("DOCTYPE declarations are not accepted.")
    element = tree.getroot()
    if element.tag != qualified(root):
        raise invalid_request(f"The root element must be {root} in namespace {NAMESPACE}.")
    schema = xml_schema()
    if not schema.validate(tree):
        error = schema.error_log.last_error
        raise invalid_request(f"Schema-invalid XML (line {error.line}): {error.message}")
    return element


def decode(body: bytes, *, root: str) -> dict:
    """The request as the dict the JSON format has (camelCase keys, typed values)."""
    return _element_value(parse_document(body, root=root))


def _key(element) -> str:
    name = etree.QName(element).localname
    return KEY_FOR_ELEMENT.get(name) or name[0].lower() + name[1:]


def _element_value(element):
    name = etree.QName(element).localname
    children = list(element)
    if name in LIST_ELEMENTS:
        return [_element_value(child) for child in children]
    if children or name in OBJECT_ELEMENTS:
        return {_key(child): _element_value(child) for child in children}
    text = (element.text or "").strip()
    # The schema has already checked the lexical forms of xs:int and xs:boolean.
    if name in INTEGER_ELEMENTS:
        return int(text)
    if name in BOOLEAN_ELEMENTS:
        return text in ("true", "1")
    return text


def _element_name(key: str) -> str:
    return ELEMENT_FOR_KEY.get(key) or key[0].upper() + key[1:]


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return INVALID_XML_CHARACTERS.sub("", str(value))


def _append(parent, key: str, value) -> None:
    """Add `value` under `parent`: dicts nest, lists repeat the element, None is left out."""
    if value is None:
        return
    name = _element_name(key)
    if isinstance(value, list):
        if key == "items":  # a fault's flat item list: wrap it like every other item list
            _append(parent, key, {"item": value})
            return
        for entry in value:
            _append(parent, key, entry)
        return
    child = etree.SubElement(parent, qualified(name))
    if isinstance(value, dict):
        for child_key, child_value in value.items():
            _append(child, child_key, child_value)
    else:
        child.text = _text(value)


def encode(data: dict, *, root: str) -> bytes:
    """Render a response dict (JSON shape) as the XML document `root`."""
    element = etree.Element(qualified(root), nsmap={None: NAMESPACE})
    for key, value in data.items():
        _append(element, key, value)
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def encode_fault(body: dict) -> bytes:
    """Render `{"fault": {...}}` as `<Fault>` with its children in schema order."""
    fault = body["fault"]
    ordered = {key: fault[key] for key in FAULT_ORDER if key in fault}
    return encode(ordered, root="Fault")

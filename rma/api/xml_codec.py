"""The XML format of the RMA service API: hardened parsing, XSD validation, rendering.

Requests are parsed only by `parse_document`, in layers (see docs/decisions.md):

1. the body must be UTF-8 (an XML declaration may not name another encoding), so
2. a DOCTYPE or ENTITY declaration is seen, and refused, before any parser runs;
3. lxml parses with entity resolution, DTD loading and network access off, huge-tree
   limits kept, and a resolver that refuses every external resource (libxml2 would
   otherwise read a `file:` parameter entity even with `load_dtd=False`);
4. a document that still carries a DOCTYPE is refused after parsing.

Elements in no namespace or in Radial's namespace are read as the project's (a Radial
client's documents work unchanged); elements the request does not know are dropped, as
the JSON format ignores unknown keys. The tree is then validated against
`schema/rma.xsd` and converted to the dict the JSON format would have produced, so both
formats share one validation and one hash for idempotency.
"""

from __future__ import annotations

import codecs
import re
from functools import cache
from pathlib import Path

from lxml import etree

from .faults import invalid_request

NAMESPACE = "urn:returns-portal:rma:1.0"
RADIAL_NAMESPACE = "http://api.gsicommerce.com/schema/checkout/1.0"
# Namespaces read as ours: none at all, and Radial's.
READ_AS_OURS = frozenset({None, "", RADIAL_NAMESPACE})
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
BOOLEAN_ELEMENTS = frozenset({"PackageInfoRequired", "ReturnItemsReceived"})
# The children each request element may have (as `schema/rma.xsd` declares them; a test
# holds the two together). Any other child is dropped before validation.
CONTEXT_CHILDREN = ("OrderId", "OrderType", "Store", "StoreType", "SourceName", "SourceLocationId")
KNOWN_CHILDREN = {
    "ReturnEligibilityRequest": frozenset(CONTEXT_CHILDREN),
    "RmaRequest": frozenset(
        {
            *CONTEXT_CHILDREN,
            "TransactionId",
            "RequestTime",
            "ReturnItemsReceived",
            "ReturnType",
            "CustomerEmail",
            "Resolution",
            "Items",
            "RepresentativeInfo",
            "Comments",
        }
    ),
    "RmaLookupRequest": frozenset({*CONTEXT_CHILDREN, "Rmaid", "PackageInfoRequired"}),
    "Items": frozenset({"Item"}),
    "Item": frozenset({"LineNumber", "ItemId", "ReturnQuantity", "ReturnReason", "ExchangeItemId"}),
    "ReturnReason": frozenset({"Code", "Category", "Description"}),
    "RepresentativeInfo": frozenset({"Id", "Name"}),
}
# The fault's elements in schema order (the JSON fault lists `createTimestamp` last).
FAULT_ORDER = (
    "createTimestamp",
    "code",
    "description",
    "detail",
    "requestId",
    "items",
    "orderType",
    "storeType",
)
# Characters XML 1.0 cannot carry; stripped from output rather than failing the response.
INVALID_XML_CHARACTERS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


XML_DECLARATION_ENCODING = re.compile(r"""\A<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
UTF8_NAMES = frozenset({"utf-8", "utf8"})


class ExternalResourceRefused(Exception):
    """Raised by the parser's resolver for any file, URL or DTD a document points at."""


class RefuseExternalResources(etree.Resolver):
    def resolve(self, system_url, public_id, context):
        raise ExternalResourceRefused(system_url)


def hardened_parser() -> etree.XMLParser:
    """A parser that never resolves entities, loads a DTD or reads any external resource."""
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    parser.resolvers.add(RefuseExternalResources())
    return parser


@cache
def xml_schema() -> etree.XMLSchema:
    """The shipped XSD (trusted, read from the package; parsed once per process)."""
    return etree.XMLSchema(etree.fromstring(SCHEMA_PATH.read_bytes(), hardened_parser()))


def qualified(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def parse_document(body: bytes, *, root: str) -> etree._Element:
    """Parse and validate one request document whose root element must be `root`.

    Raises RMA 1001 for anything that is not a well-formed, DOCTYPE-free, schema-valid
    document with that root.
    """
    if not body.strip():
        raise invalid_request("The request body is empty; an XML document is required.")
    body = body.removeprefix(codecs.BOM_UTF8)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_request("XML documents must be encoded in UTF-8.") from None
    declared = XML_DECLARATION_ENCODING.match(text)
    if declared and declared.group(1).strip().lower() not in UTF8_NAMES:
        raise invalid_request("XML documents must be encoded in UTF-8.")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise invalid_request("DOCTYPE declarations are not accepted.")
    try:
        tree = etree.fromstring(body, hardened_parser()).getroottree()
    except ExternalResourceRefused:
        raise invalid_request("External resources are not loaded.") from None
    except etree.XMLSyntaxError as error:
        raise invalid_request(f"Malformed XML: {error.msg}") from None
    except (ValueError, TypeError) as error:
        raise invalid_request(f"Malformed XML: {error}") from None
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise invalid_request("DOCTYPE declarations are not accepted.")
    element = tree.getroot()
    read_as_ours(element)
    if element.tag != qualified(root):
        raise invalid_request(
            f"The root element must be {root}, in namespace {NAMESPACE}, in Radial's "
            f"namespace {RADIAL_NAMESPACE} or in none."
        )
    drop_unknown(element)
    schema = xml_schema()
    if not schema.validate(tree):
        error = schema.error_log.last_error
        raise invalid_request(f"Schema-invalid XML (line {error.line}): {error.message}")
    return element


def read_as_ours(root) -> None:
    """Put every element in no namespace or in Radial's into the project's namespace."""
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).namespace in READ_AS_OURS:
            element.tag = qualified(etree.QName(element).localname)


def drop_unknown(element) -> None:
    """Remove, at every level, the children a request element does not declare."""
    known = KNOWN_CHILDREN.get(etree.QName(element).localname)
    if known is None:
        return
    for child in list(element):
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child)
        if name.namespace != NAMESPACE or name.localname not in known:
            element.remove(child)
        else:
            drop_unknown(child)


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

"""The XML codec's hardening, layer by layer (the fuzz test sees only the outer layer)."""

import socket

import pytest
from lxml import etree

from rma.api.faults import ApiFault
from rma.api.xml_codec import (
    KNOWN_CHILDREN,
    ExternalResourceRefused,
    decode,
    encode,
    encode_fault,
    hardened_parser,
    parse_document,
)
from tests.rma.api.conftest import NS, XSD_PATH, xsd

LAUGHS = (
    '<!DOCTYPE r [<!ENTITY l0 "lol">'
    + "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    + "]><r>&l9;</r>"
)


@pytest.fixture
def secret_dtd(tmp_path):
    path = tmp_path / "secret.dtd"
    path.write_text('<!ENTITY leak "TOKEN-5d1e">')
    return path


@pytest.fixture
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    yield server
    server.close()


def connections(server) -> int:
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return 0
    return 1


def refusal(body: bytes, root: str = "RmaLookupRequest") -> str:
    with pytest.raises(ApiFault) as refused:
        parse_document(body, root=root)
    assert refused.value.code == "RMA 1001"
    assert refused.value.status == 400
    return refused.value.detail


def test_parser_refuses_a_file_parameter_entity_even_past_the_doctype_check(secret_dtd):
    # Straight to lxml: without the resolver, libxml2 reads this file despite load_dtd=False.
    body = f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{secret_dtd.as_uri()}"> %p;]><r>&leak;</r>'
    with pytest.raises(ExternalResourceRefused) as refused:
        etree.fromstring(body.encode(), hardened_parser())
    assert "TOKEN-5d1e" not in str(refused.value)


@pytest.mark.parametrize(
    "declaration",
    [
        '<!DOCTYPE r SYSTEM "{url}">',
        '<!DOCTYPE r [<!ENTITY % p SYSTEM "{url}"> %p;]>',
    ],
)
def test_parser_never_connects_for_an_external_dtd(listener, declaration):
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/evil.dtd"
    body = declaration.format(url=url) + "<r/>"
    with pytest.raises((ExternalResourceRefused, etree.XMLSyntaxError)):
        etree.fromstring(body.encode(), hardened_parser())
    assert connections(listener) == 0


def test_parser_does_not_expand_a_billion_laughs():
    # Expanded, the document would be 3 GB of "lol"; unexpanded it stays a few hundred bytes.
    try:
        root = etree.fromstring(LAUGHS.encode(), hardened_parser())
    except etree.XMLSyntaxError:
        root = None
    assert root is None or len(etree.tostring(root)) < 10_000
    assert root is None or "lol" not in "".join(root.itertext())


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (LAUGHS.encode(), "DOCTYPE"),
        (b'<!DOCTYPE RmaLookupRequest SYSTEM "http://127.0.0.1:9/"><RmaLookupRequest/>', "DOCTYPE"),
        (b'<!ENTITY x "y"><RmaLookupRequest/>', "DOCTYPE"),
        (
            f'<?xml version="1.0" encoding="UTF-16"?><RmaLookupRequest xmlns="{NS}"/>'.encode(
                "utf-16"
            ),
            "UTF-8",
        ),
        (
            f'<?xml version="1.0" encoding="ISO-8859-1"?><RmaLookupRequest xmlns="{NS}"/>'.encode(),
            "UTF-8",
        ),
        (b"\xff\xfe<\x00", "UTF-8"),
        (f'<RmaLookupRequest xmlns="{NS}"><Rmaid>x</Rmaid>'.encode(), "Malformed"),
        (f'<RmaRequest xmlns="{NS}"/>'.encode(), "root element"),
        (b'<RmaLookupRequest xmlns="urn:other"/>', "root element"),
        (f'<ReturnEligibilityRequest xmlns="{NS}"/>'.encode(), "root element"),
        (f'<RmaLookupRequest xmlns="{NS}">text</RmaLookupRequest>'.encode(), "Schema"),
        (
            f'<RmaLookupRequest xmlns="{NS}"><PackageInfoRequired>yes</PackageInfoRequired>'
            f"</RmaLookupRequest>".encode(),
            "Schema",
        ),
    ],
)
def test_parse_document_refusals(body, reason):
    assert reason in refusal(body)


def test_xinclude_and_schema_location_hints_are_never_followed(listener, secret_dtd):
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/schema.xsd"
    valid_with_hint = (
        f'<RmaLookupRequest xmlns="{NS}" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{NS} {url}"><Rmaid>X</Rmaid></RmaLookupRequest>'
    )
    assert decode(valid_with_hint.encode(), root="RmaLookupRequest") == {"rmaid": "X"}
    xinclude = (
        f'<RmaLookupRequest xmlns="{NS}" xmlns:xi="http://www.w3.org/2001/XInclude">'
        f'<xi:include href="{secret_dtd.as_uri()}" parse="text"/></RmaLookupRequest>'
    )
    # An element of another namespace is not part of the request: dropped, never followed.
    assert decode(xinclude.encode(), root="RmaLookupRequest") == {}
    assert connections(listener) == 0


def test_decode_types_values_and_keeps_lists():
    body = f"""<?xml version="1.0" encoding="utf-8"?>
    <RmaRequest xmlns="{NS}">
      <TransactionId> t-1 </TransactionId>
      <Items>
        <Item><LineNumber>2</LineNumber><ReturnQuantity>-1</ReturnQuantity>
          <ReturnReason><Code>TOO_SMALL</Code></ReturnReason></Item>
      </Items>
      <RepresentativeInfo/>
      <!-- a comment -->
    </RmaRequest>""".encode()
    assert decode(body, root="RmaRequest") == {
        "transactionId": "t-1",
        "items": [{"lineNumber": 2, "returnQuantity": -1, "returnReason": {"code": "TOO_SMALL"}}],
        "representativeInfo": {},
    }


def test_encode_strips_characters_xml_cannot_carry_and_validates():
    data = {
        "orderId": "A\x00B\x1fC",
        "store": "S",
        "eligible": True,
        "items": {"item": []},
    }
    root = etree.fromstring(encode(data, root="ReturnEligibilityResponse"))
    assert root.findtext(f"{{{NS}}}OrderId") == "ABC"
    assert xsd().validate(root), xsd().error_log


def test_fault_elements_come_in_schema_order():
    fault = {
        "fault": {
            "code": "RMA 1007",
            "description": "Requested return quantity allowed limit",
            "createTimestamp": "2026-11-22T02:00:00.000+00:00",
            "items": [{"lineNumber": 1, "code": "RMA 1007", "description": "d"}],
        }
    }
    root = etree.fromstring(encode_fault(fault))
    assert [etree.QName(child).localname for child in root] == [
        "CreateTimestamp",
        "Code",
        "Description",
        "Items",
    ]
    assert xsd().validate(root), xsd().error_log


def test_known_children_are_the_schemas_request_elements():
    """The codec drops what the XSD does not declare: its list must be the XSD's."""
    schema = etree.parse(str(XSD_PATH))
    xs = {"xs": "http://www.w3.org/2001/XMLSchema"}

    def declared(xpath: str) -> frozenset[str]:
        return frozenset(schema.xpath(f"{xpath}//xs:element/@name", namespaces=xs))

    from_xsd = {
        root: declared(f"/xs:schema/xs:element[@name='{root}']")
        for root in ("ReturnEligibilityRequest", "RmaRequest", "RmaLookupRequest")
    }
    from_xsd |= {
        "Items": declared("/xs:schema/xs:complexType[@name='RequestItems']"),
        "Item": declared("/xs:schema/xs:complexType[@name='RequestItem']"),
        "ReturnReason": declared("/xs:schema/xs:complexType[@name='ReturnReason']"),
        "RepresentativeInfo": declared("/xs:schema/xs:complexType[@name='RepresentativeInfo']"),
    }
    assert from_xsd == KNOWN_CHILDREN


@pytest.mark.parametrize(
    "namespace", ["", ' xmlns="http://api.gsicommerce.com/schema/checkout/1.0"']
)
def test_foreign_namespaces_and_unknown_elements(namespace):
    body = f"""<RmaRequest{namespace}>
      <TransactionId>t-1</TransactionId><Unknown><Deep>x</Deep></Unknown>
      <Items><Item><LineNumber>1</LineNumber><ReturnQuantity>1</ReturnQuantity>
        <Gift>yes</Gift><ReturnReason><Code>CDE</Code><Sub>1</Sub></ReturnReason></Item>
        <NotAnItem/></Items>
      <ReturnItemsReceived>true</ReturnItemsReceived>
    </RmaRequest>""".encode()
    assert decode(body, root="RmaRequest") == {
        "transactionId": "t-1",
        "items": [{"lineNumber": 1, "returnQuantity": 1, "returnReason": {"code": "CDE"}}],
        "returnItemsReceived": True,
    }

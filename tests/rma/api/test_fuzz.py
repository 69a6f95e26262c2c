"""Fuzzing the request decoders with malformed and hostile JSON and XML bodies.

Every body here is invalid by construction (or hostile), so every answer must be a 4xx
with a well-formed fault in the route's format: never a 5xx, never the content of a
local file, never a network connection, and bounded memory.

Over 10,000 bodies in one run, each sent straight to the resolved view (RequestFactory,
no middleware: the decoders are under test, not the middleware stack). Memory is traced
while the hostile and oversized categories run (tracing every category would triple the
run time). The run is bounded by its example counts, not by a clock (a busy machine must
not fail it); the counts and the memory peak are printed. A smaller run goes through the
whole stack (the test client: middleware, URL routing, both route forms).

Unknown keys and elements are ignored by the API, so bodies that add them are only
invalid here because something else in them is: ignoring never hides an error.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory
from django.urls import resolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from rma.errors import DESCRIPTIONS
from rma.models import Rma
from tests.rma.api.conftest import NS, REQUEST_ROOTS, api_url, rma_body, xml_request, xsd

pytestmark = pytest.mark.django_db

MINIMUM_BODIES = 10_000
MEMORY_LIMIT_BYTES = 64 * 1024 * 1024
FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
OPERATIONS = list(REQUEST_ROOTS)


class Listener:
    """A local TCP server that counts connections (libxml2 would connect from C)."""

    def __init__(self):
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.1)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopped.is_set():
            try:
                conversation, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conversation.close()

    def stop(self):
        self.stopped.set()
        self.thread.join()
        self.server.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.stop()


@pytest.fixture
def outbound_connections(monkeypatch, listener):
    """Every Python-level connection attempt, refused and recorded."""
    attempts = []

    def refuse(sock, address, *args):
        attempts.append(address)
        raise OSError("outbound connections are not allowed in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.fixture
def secret_file(tmp_path) -> tuple[Path, str]:
    token = "LEAKED-" + "7c1f9e2b4d"
    path = tmp_path / "secret.dtd"
    path.write_text(f'<!ENTITY leak "{token}"> {token}\n')
    return path, token


def passwd_marker() -> bytes:
    first_line = Path("/etc/passwd").read_bytes().split(b"\n", 1)[0]
    return first_line or b"root:x:0:0"


# ---- what makes a well-formed fault ----------------------------------------------------


def assert_fault(fmt: str, status: int, content: bytes, forbidden: list[bytes]) -> None:
    assert 400 <= status < 500, (status, content[:300])
    for marker in forbidden:
        assert marker not in content
    if fmt == "json":
        fault = json.loads(content)["fault"]
        code, description = fault["code"], fault["description"]
        assert fault["createTimestamp"]
    else:
        root = etree.fromstring(content)
        assert root.tag == f"{{{NS}}}Fault"
        assert xsd().validate(root), xsd().error_log
        code = root.findtext(f"{{{NS}}}Code")
        description = root.findtext(f"{{{NS}}}Description")
    assert code in DESCRIPTIONS or code == str(status), code
    assert description == DESCRIPTIONS.get(code, description)


# ---- JSON bodies -----------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

# Where a wrong type goes in a generateRMA body, and which JSON types are wrong there.
TYPED_PATHS = [
    (("transactionId",), "text"),
    (("orderId",), "text"),
    (("store",), "text"),
    (("requestTime",), "optional-text"),
    (("sourceName",), "optional-text"),
    (("orderType",), "optional-text"),
    (("storeType",), "optional-text"),
    (("sourceLocationId",), "optional-text"),
    (("returnType",), "optional-text"),
    (("returnItemsReceived",), "bool"),
    (("customerEmail",), "optional-text"),
    (("resolution",), "optional-text"),
    (("comments",), "optional-text"),
    (("items",), "list"),
    (("representativeInfo",), "optional-object"),
    (("items", 0, "lineNumber"), "int-or-digits"),
    (("items", 0, "returnQuantity"), "int-or-digits"),
    (("items", 0, "itemId"), "optional-text"),
    (("items", 0, "returnReason"), "object"),
    (("items", 0, "returnReason", "code"), "text"),
]


def wrongly_typed(kind: str, value) -> bool:
    if kind.startswith("optional-") and value is None:
        return False
    kind = kind.removeprefix("optional-")
    right = {
        "text": lambda v: isinstance(v, str),
        "int-or-digits": lambda v: (
            (isinstance(v, int) and not isinstance(v, bool))
            or (isinstance(v, str) and v.isascii() and v.isdigit())
        ),
        "bool": lambda v: isinstance(v, bool),
        "list": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }[kind]
    return not right(value)


@st.composite
def json_wrong_types(draw, order):
    body = rma_body(order, (1, 1))
    path, kind = draw(st.sampled_from(TYPED_PATHS))
    value = draw(json_values.filter(lambda v: wrongly_typed(kind, v)))
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return json.dumps(body).encode()


KNOWN_KEYS = {
    "orderId", "store", "transactionId", "requestTime", "sourceName", "returnType",
    "customerEmail", "resolution", "items", "representativeInfo", "comments",
    "lineNumber", "itemId", "returnQuantity", "returnReason", "code", "category", "description",
    "orderType", "storeType", "sourceLocationId", "returnItemsReceived", "id", "name",
}  # fmt: skip


def unknown_keys_added(draw, body: dict) -> dict:
    """`body` with unknown keys at some levels (the API ignores them)."""
    places = {"top": body, "item": body["items"][0]}
    if isinstance(body["items"][0].get("returnReason"), dict):
        places["reason"] = body["items"][0]["returnReason"]
    for where in draw(st.lists(st.sampled_from(sorted(places)), min_size=1, max_size=3)):
        key = draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in KNOWN_KEYS))
        places[where][key] = draw(json_values)
    return body


@st.composite
def json_unknown_keys(draw, order):
    """Unknown keys beside a wrongly typed known field: still refused (1001)."""
    body = json.loads(draw(json_wrong_types(order)))
    if not isinstance(body.get("items"), list) or not body["items"]:
        body["items"] = [{"lineNumber": "x"}]
    if not isinstance(body["items"][0], dict):
        body["items"][0] = {"lineNumber": "x"}
    return json.dumps(unknown_keys_added(draw, body)).encode()


@st.composite
def json_deep_nesting(draw):
    depth = draw(st.integers(min_value=500, max_value=120_000))
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
    return opener * depth + b"1" + closer * depth


@st.composite
def json_huge_numbers(draw):
    digits = draw(st.integers(min_value=400, max_value=20_000))
    number = draw(st.sampled_from([b"9" * digits, b"1e" + b"9" * (digits // 100 + 3)]))
    return b'{"transactionId": "t", "items": [{"lineNumber": ' + number + b"}]}"


json_arbitrary = json_values.filter(lambda v: not (isinstance(v, dict) and "items" in v)).map(
    lambda v: json.dumps(v).encode()
)


# ---- XML bodies ------------------------------------------------------------------------


def valid_xml(order, operation: str) -> bytes:
    body = rma_body(order, (1, 1)) if operation == "generateRMA" else {"orderId": "3000179302"}
    return xml_request(operation, body).strip()


@st.composite
def xml_truncated(draw, order):
    operation = draw(st.sampled_from(OPERATIONS))
    document = valid_xml(order, operation)
    return operation, document[: draw(st.integers(1, len(document) - 1))]


INT_LIKE = re.compile(r"\s*[+-]?\d+\s*")


@st.composite
def xml_bad_integers(draw, order):
    document = valid_xml(order, "generateRMA").decode()
    element = draw(st.sampled_from(["LineNumber", "ReturnQuantity"]))
    text = draw(
        st.text(max_size=30).filter(lambda t: not INT_LIKE.fullmatch(t))
        | st.integers(min_value=2**31).map(str)
    )
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    document = document.replace(f"<{element}>1</{element}>", f"<{element}>{escaped}</{element}>")
    return "generateRMA", document.encode()


@st.composite
def xml_unknown_elements(draw, order):
    """Unknown elements (dropped by the API) in a document with a bad integer: refused."""
    _, document = draw(xml_bad_integers(order))
    document = document.decode()
    name = draw(st.from_regex(r"[A-Z][A-Za-z]{0,12}", fullmatch=True))
    position = document.index(">", document.index("RmaRequest")) + 1
    document = f"{document[:position]}<{name}Unknown>x</{name}Unknown>{document[position:]}"
    return "generateRMA", document.encode()


@st.composite
def xml_deep_nesting(draw):
    operation = draw(st.sampled_from(OPERATIONS))
    depth = draw(st.integers(min_value=100, max_value=20_000))
    root = REQUEST_ROOTS[operation]
    inner = b"<OrderId>" * depth + b"1" + b"</OrderId>" * depth
    return operation, f'<{root} xmlns="{NS}">'.encode() + inner + f"</{root}>".encode()


@st.composite
def xml_hostile(draw, targets: list[str]):
    """XXE (general, parameter, external DTD), billion laughs, quadratic blow-up, XInclude."""
    operation = draw(st.sampled_from(OPERATIONS))
    root = REQUEST_ROOTS[operation]
    url = draw(st.sampled_from(targets))
    kind = draw(
        st.sampled_from(
            ["general", "parameter", "dtd", "public", "laughs", "quadratic", "xinclude"]
        )
    )
    if kind == "general":
        dtd = f'<!DOCTYPE {root} [<!ENTITY e SYSTEM "{url}">]>'
        content = "<OrderId>&e;</OrderId>"
    elif kind == "parameter":
        dtd = f'<!DOCTYPE {root} [<!ENTITY % p SYSTEM "{url}"> %p;]>'
        content = "<OrderId>&leak;</OrderId>"
    elif kind == "dtd":
        dtd, content = f'<!DOCTYPE {root} SYSTEM "{url}">', ""
    elif kind == "public":
        dtd, content = f'<!DOCTYPE {root} PUBLIC "-//X//Y//EN" "{url}">', ""
    elif kind == "laughs":
        levels = draw(st.integers(min_value=3, max_value=12))
        entities = ['<!ENTITY l0 "lol">'] + [
            f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, levels)
        ]
        dtd = f"<!DOCTYPE {root} [{''.join(entities)}]>"
        content = f"<OrderId>&l{levels - 1};</OrderId>"
    elif kind == "quadratic":
        size = draw(st.integers(min_value=1_000, max_value=40_000))
        dtd = f'<!DOCTYPE {root} [<!ENTITY a "{"a" * size}">]>'
        content = "<OrderId>" + "&a;" * draw(st.integers(1, 2_000)) + "</OrderId>"
    else:
        dtd = ""
        # Where the included text would land: an element of the request (an XInclude
        # element beside them is dropped unread; the codec's tests show that).
        content = (
            "<OrderId>"
            f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{url}" parse="text"/>'
            "</OrderId>"
        )
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "utf-16-le", "iso-8859-1"]))
    declaration = draw(st.sampled_from([f'<?xml version="1.0" encoding="{encoding}"?>', ""]))
    if not declaration and encoding not in ("utf-8", "utf-16"):
        encoding = "utf-8"
    document = f'{declaration}{dtd}<{root} xmlns="{NS}">{content}</{root}>'
    return operation, document.encode(encoding)


@st.composite
def oversized(draw, fmt: str, limit: int):
    size = draw(st.integers(min_value=limit + 1, max_value=limit + 50_000))
    if fmt == "json":
        return b'{"comments": "' + b"x" * size + b'"}'
    return (
        f'<RmaRequest xmlns="{NS}"><Comments>'.encode() + b"x" * size + b"</Comments></RmaRequest>"
    )


# ---- the run ---------------------------------------------------------------------------


def test_malformed_and_hostile_bodies_get_4xx_faults_only(
    api, order, listener, outbound_connections, secret_file, capsys
):
    limit = django_settings.API_MAX_BODY_BYTES
    generate = "generateRMA"
    secret_path, token = secret_file
    targets = [
        "file:///etc/passwd",
        secret_path.as_uri(),
        "http://127.0.0.1:9/",
        f"http://127.0.0.1:{listener.port}/evil.dtd",
        f"ftp://127.0.0.1:{listener.port}/evil.dtd",
    ]
    forbidden = [passwd_marker(), token.encode()]
    counts: Counter = Counter()
    statuses: Counter = Counter()

    factory = RequestFactory()
    routes = {}
    for operation in OPERATIONS:
        for fmt in ("json", "xml"):
            path = api_url(order.store.code, order.order_id, operation, fmt)
            routes[operation, fmt] = (path, resolve(path))

    def send(category: str, fmt: str, operation: str, body: bytes) -> None:
        path, match = routes[operation, fmt]
        content_type = "application/json" if fmt == "json" else "application/xml"
        request = factory.generic(
            "POST", path, body, content_type=content_type, headers={"apikey": api.key}
        )
        response = match.func(request, *match.args, **match.kwargs)
        counts[category] += 1
        statuses[response.status_code] += 1
        assert_fault(fmt, response.status_code, response.content, forbidden)

    def run(category, fmt, strategy, examples, operation=None):
        @settings(FUZZ, max_examples=examples)
        @given(drawn=strategy)
        def fuzz(drawn):
            if operation is None:
                chosen, body = drawn
            else:
                chosen, body = operation, drawn
            send(category, fmt, chosen, body)

        fuzz()

    # (category, format, strategy, examples, operation (None: drawn), memory traced)
    plan = [
        ("json bytes", "json", st.binary(max_size=2_000), 1_600, generate, False),
        ("json values", "json", json_arbitrary, 1_600, generate, False),
        ("json wrong types", "json", json_wrong_types(order), 1_600, generate, False),
        ("json unknown keys", "json", json_unknown_keys(order), 500, generate, False),
        ("xml bytes", "xml", st.binary(max_size=2_000), 1_300, generate, False),
        ("xml truncated", "xml", xml_truncated(order), 1_600, None, False),
        ("xml bad integers", "xml", xml_bad_integers(order), 700, None, False),
        ("xml unknown elements", "xml", xml_unknown_elements(order), 500, None, False),
        ("json deep nesting", "json", json_deep_nesting(), 150, generate, True),
        ("json huge numbers", "json", json_huge_numbers(), 200, generate, True),
        ("json oversized", "json", oversized("json", limit), 40, generate, True),
        ("xml deep nesting", "xml", xml_deep_nesting(), 150, None, True),
        ("xml hostile", "xml", xml_hostile(targets), 1_500, None, True),
        ("xml oversized", "xml", oversized("xml", limit), 40, generate, True),
    ]
    peak = 0
    try:
        for category, fmt, strategy, examples, operation, traced in plan:
            if traced and not tracemalloc.is_tracing():
                tracemalloc.start()
            run(category, fmt, strategy, examples, operation)
            if traced:
                peak = max(peak, tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    total = sum(counts.values())
    with capsys.disabled():
        print(f"\nfuzz: {total} bodies, peak {peak / 2**20:.1f} MiB traced")
        print(f"fuzz: per category {dict(counts)}")
        print(f"fuzz: statuses {dict(statuses)}")
    assert total >= MINIMUM_BODIES
    assert counts["xml hostile"] >= 1_000
    assert peak < MEMORY_LIMIT_BYTES
    assert outbound_connections == []
    assert listener.connections == 0
    assert not Rma.objects.exists()


# ---- the same through the whole stack -----------------------------------------------

TEMPLATE_PATHS = {
    "checkEligibility": "/v1.0/sellers/{store}/orders/{order}/returns/checkEligibility/new",
    "generateRMA": "/v1.0/return-order-create/sellers/{store}/orders/{order}/returns/generateRMA",
    "lookupRMA": "/v1.0/return-order-create/sellers/{store}/orders/{order}/returns/lookupRMA",
}
FULL_STACK_EXAMPLES = 60  # per category: a smaller run, each body through the middleware


def test_malformed_bodies_through_the_whole_stack_get_4xx_faults_only(
    api, order, outbound_connections, secret_file, capsys
):
    """The test client (middleware, URL routing) for both route forms, in both formats."""
    secret_path, token = secret_file
    forbidden = [passwd_marker(), token.encode()]
    targets = ["file:///etc/passwd", secret_path.as_uri(), "http://127.0.0.1:9/"]
    counts: Counter = Counter()

    def send(fmt: str, operation: str, body: bytes, template: bool) -> None:
        content_type = "application/json" if fmt == "json" else "application/xml"
        if template:
            path = TEMPLATE_PATHS[operation].format(store=order.store.code, order=order.order_id)
        else:
            path = api_url(order.store.code, order.order_id, operation, fmt)
        response = api.client.generic(
            "POST",
            path,
            body,
            content_type=content_type,
            headers={"apikey": api.key, "Accept": content_type},
        )
        counts[fmt, template] += 1
        assert response.headers["Content-Type"].startswith(content_type), response.content[:200]
        assert_fault(fmt, response.status_code, response.content, forbidden)

    plan = [
        ("json", st.binary(max_size=500).map(lambda b: ("generateRMA", b))),
        ("json", json_wrong_types(order).map(lambda b: ("generateRMA", b))),
        ("json", json_unknown_keys(order).map(lambda b: ("generateRMA", b))),
        ("xml", xml_truncated(order)),
        ("xml", xml_bad_integers(order)),
        ("xml", xml_unknown_elements(order)),
        ("xml", xml_hostile(targets)),
    ]

    def run(fmt, strategy):
        @settings(FUZZ, max_examples=FULL_STACK_EXAMPLES)
        @given(drawn=strategy, template=st.booleans())
        def fuzz(drawn, template):
            operation, body = drawn
            send(fmt, operation, body, template)

        fuzz()

    for fmt, strategy in plan:
        run(fmt, strategy)

    with capsys.disabled():
        print(f"\nfuzz (whole stack): {dict(counts)}")
    assert sum(counts.values()) >= FULL_STACK_EXAMPLES * len(plan)
    assert {(fmt, template) for fmt in ("json", "xml") for template in (False, True)} <= set(counts)
    assert outbound_connections == []
    assert not Rma.objects.exists()


def test_unknown_keys_never_change_the_answer(api, order):
    """Through the whole stack: a request with unknown keys anywhere gets the plain
    request's answer (a generateRMA replays the first response, byte for byte)."""
    plain = rma_body(order, (1, 1))
    url = api_url(order.store.code, order.order_id, "generateRMA", "json")
    first = api.client.generic(
        "POST", url, json.dumps(plain), content_type="application/json", headers={"apikey": api.key}
    )
    assert first.status_code == 201, first.content
    lookup_url = api_url(order.store.code, order.order_id, "lookupRMA", "json")
    lookup = api.client.generic(
        "POST", lookup_url, b"{}", content_type="application/json", headers={"apikey": api.key}
    )

    @settings(FUZZ, max_examples=80)
    @given(data=st.data())
    def fuzz(data):
        body = unknown_keys_added(data.draw, json.loads(json.dumps(plain)))
        again = api.client.generic(
            "POST", url, json.dumps(body), content_type="application/json",
            headers={"apikey": api.key},
        )  # fmt: skip
        assert (again.status_code, again.content) == (201, first.content)
        extra = data.draw(st.dictionaries(st.text(max_size=8).filter(
            lambda k: k not in KNOWN_KEYS), json_values, max_size=3))  # fmt: skip
        looked_up = api.client.generic(
            "POST", lookup_url, json.dumps(extra), content_type="application/json",
            headers={"apikey": api.key},
        )  # fmt: skip
        assert (looked_up.status_code, looked_up.content) == (200, lookup.content)

    fuzz()
    assert Rma.objects.count() == 1

"""The OpenAPI document at /api/schema/, the docs page, and the API's conformance to both.

Schemathesis generates valid and invalid requests from the served schema and checks
that the JSON API never fails with a 5xx and answers only with documented statuses,
content types and bodies.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rma.apikeys import api_key_create
from rma.models import Rma
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = 400
OPERATIONS = {
    ("GET", "checkEligibility.json"),
    ("POST", "checkEligibility.json"),
    ("POST", "generateRMA.json"),
    ("POST", "lookupRMA.json"),
}


def test_schema_describes_the_three_json_operations(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    described = {
        (method.upper(), path.rsplit("/", 1)[-1])
        for path, item in document["paths"].items()
        if path.startswith("/v1.0/seller/{store}/return-order/create/{orderId}/")
        for method in item
    }
    assert described == OPERATIONS
    assert not any(path.endswith(".xml") for path in document["paths"])
    scheme = document["components"]["securitySchemes"]["apikey"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "apikey"}
    fault = document["components"]["schemas"]["FaultDetail"]["properties"]
    assert {"code", "description", "createTimestamp", "items"} <= set(fault)


def test_docs_page_serves_its_assets_locally_under_the_csp(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn." not in html and "https://" not in html
    # The init script comes from our origin (no inline script), so script-src stays 'self'.
    assert "<script>" not in html
    policy = response.headers["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in directives["style-src"]
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
    # No validator badge fetched from validator.swagger.io.
    assert '"validatorUrl": null' in script.content.decode()


def test_only_the_docs_page_relaxes_the_csp(api, order):
    reply = api.call("checkEligibility", "json", order_id=order.order_id, method="get")
    assert "'unsafe-inline'" not in reply.headers["Content-Security-Policy"]


@pytest.fixture
def wsgi_app():
    """The real WSGI app, minus its per-request connection closing (as the test Client
    does), so every request sees the test's transaction and connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded_stores():
    """Stores with a key each and orders with many returnable lines, so that generated
    generateRMA calls can succeed again and again (each one holds some quantity)."""
    seeded = []
    for code in ("TMSUS", "BB2US"):
        store = StoreFactory(code=code)
        _, key = api_key_create(store=store, name="OMS")
        orders = []
        for number in range(3):
            order = OrderFactory(store=store, order_id=f"{code}-{number}")
            for line_number in range(1, 6):
                OrderLineFactory(order=order, line_number=line_number, quantity=1_000)
            orders.append(order)
        seeded.append((store, key, orders))
    return seeded


def realistic_items(draw_line, draw_quantity, draw_reason) -> list[dict]:
    """Items that name a line of the order, a small quantity and any reason code (a code
    the store has not configured is accepted with the caller's words)."""
    return [
        {
            "lineNumber": draw_line,
            "returnQuantity": draw_quantity,
            "returnReason": {"code": draw_reason, "category": "FIT"},
        }
    ]


def test_api_conforms_to_its_schema(seeded_stores, wsgi_app, capsys):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(op.method.upper(), op.path.rsplit("/", 1)[-1]) for op in operations} == OPERATIONS
    strategies = [
        operation.as_strategy(generation_mode=mode).map(lambda case, mode=mode: (mode, case))
        for operation in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
    statuses: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        drawn=st.one_of(strategies),
        seeded=st.sampled_from(
            [(store, key, order) for store, key, orders in seeded_stores for order in orders]
        ),
        # Three in four cases reach a seeded store and order; the rest a generated one.
        use_seeded=st.integers(min_value=0, max_value=3).map(bool),
        realistic=st.integers(min_value=0, max_value=3).map(bool),
        line=st.integers(min_value=1, max_value=5),
        quantity=st.integers(min_value=1, max_value=3),
        reason=st.text(
            alphabet=st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12
        ),
    )
    def check(drawn, seeded, use_seeded, realistic, line, quantity, reason):
        mode, case = drawn
        key = seeded_stores[0][1]
        if use_seeded:
            # Most cases reach a real store and order with its own key, instead of
            # stopping at RMA 1002 or 1003.
            store, key, order = seeded
            case.path_parameters = {"store": store.code, "orderId": order.order_id}
            body_fits = mode == GenerationMode.POSITIVE and isinstance(case.body, dict)
            if realistic and body_fits and case.operation.path.endswith("generateRMA.json"):
                # A positive body made returnable: the 201 path, with the generated
                # values of every other field.
                for field in ("orderId", "store", "customerEmail", "resolution"):
                    case.body.pop(field, None)
                case.body = {
                    **case.body,
                    # A new id: a generated one is often reused (RMA 1022 is tested apart).
                    "transactionId": f"txn-{sum(statuses.values())}",
                    "items": realistic_items(line, quantity, reason),
                }
        response = case.call_and_validate(headers={"apikey": key}, checks=CHECKS)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    check()
    with capsys.disabled():
        print(f"\nschemathesis: {sum(statuses.values())} calls: {statuses}")
    assert not any(status >= 500 for status in statuses)
    # The run exercised success (201: RMAs created) and refusal paths alike.
    assert {200, 201, 400, 404} <= set(statuses), statuses
    assert Rma.objects.exists()

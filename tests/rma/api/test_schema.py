"""The OpenAPI document at /api/schema/, the docs page, and the API's conformance to both.

Schemathesis generates valid and invalid requests from the served schema and checks
that the JSON API never fails with a 5xx and answers only with documented statuses,
content types and bodies.
"""

import time

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


def test_api_conforms_to_its_schema(order, raw_key, wsgi_app, capsys):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(op.method.upper(), op.path.rsplit("/", 1)[-1]) for op in operations} == OPERATIONS
    strategies = [
        operation.as_strategy(generation_mode=mode)
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
    @given(case=st.one_of(strategies), known_order=st.booleans())
    def check(case, known_order):
        if known_order:
            # Half the cases reach an existing order instead of stopping at RMA 1002.
            case.path_parameters = {"store": "TMSUS", "orderId": order.order_id}
        response = case.call_and_validate(headers={"apikey": raw_key}, checks=CHECKS)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    started = time.monotonic()
    check()
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\nschemathesis: {sum(statuses.values())} calls in {elapsed:.1f}s: {statuses}")
    assert not any(status >= 500 for status in statuses)
    # The run exercised success and refusal paths alike.
    assert {200, 400, 404} <= set(statuses)
    assert elapsed < 60

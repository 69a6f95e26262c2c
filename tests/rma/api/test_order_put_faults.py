"""`PUT /api/v1/stores/{code}/orders/{order_id}`: malformed bodies and a database that is
down are JSON errors (4xx, 503), never an HTML page or a 500 from the input."""

import json

import pytest
from django.db import OperationalError, connection

from rma.apikeys import api_key_create
from rma.importing import import_document
from rma.models import Order, Store
from tests.factories import import_line_data, import_order_data, spec_import_document

pytestmark = pytest.mark.django_db

URL = "/api/v1/stores/TMSUS/orders/3000179302"


@pytest.fixture
def raw_key():
    document = spec_import_document()
    document["orders"] = []
    import_document(document)
    return api_key_create(store=Store.objects.get(code="TMSUS"), name="ERP")[1]


def put(client, data: str | bytes, key):
    return client.put(URL, data=data, content_type="application/json", headers={"apikey": key})


def test_a_body_nested_too_deeply_is_a_json_400(client, raw_key):
    response = put(client, "[" * 50_000, raw_key)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"errors": ["the body is not valid JSON: it is nested too deeply"]}


def test_a_lone_surrogate_is_a_json_400_and_nothing_is_written(client, raw_key):
    body = json.dumps(import_order_data(lines=[import_line_data(title="Case \\ud800")]))
    body = body.replace("\\\\ud800", "\\ud800")  # the JSON escape itself, not a backslash

    response = put(client, body, raw_key)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        "order.lines[0].title: is not valid Unicode text: it contains a lone surrogate"
        " (\\ud800) (order TMSUS 3000179302)"
    ]
    assert not Order.objects.exists()


def test_a_line_break_in_a_name_is_a_json_400(client, raw_key):
    body = import_order_data(customer={"email": "ada@example.com", "name": "Ada\r\nBcc: x"})

    response = put(client, json.dumps(body), raw_key)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        "order.customer.name: must be a single line, without line breaks (order TMSUS 3000179302)"
    ]


def test_a_quantity_above_the_cap_is_a_json_400(client, raw_key):
    body = import_order_data(lines=[import_line_data(quantity=300_000)])

    response = put(client, json.dumps(body), raw_key)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        "order.lines[0].quantity: must be at most 10000 (got 300000) (order TMSUS 3000179302)"
    ]


def database_down(execute, sql, params, many, context):
    """Every query fails as it does when PostgreSQL is unreachable (Django's execute hook)."""
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


def test_a_database_that_is_down_is_a_json_503_with_retry_after(client, raw_key, caplog):
    with connection.execute_wrapper(database_down):
        response = put(client, json.dumps(import_order_data()), raw_key)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "errors": [
            "the database is unavailable, so the order was not saved; send it again in a minute"
        ]
    }
    assert "database is unreachable" in caplog.text
    # Once it is back, the same request succeeds.
    assert put(client, json.dumps(import_order_data()), raw_key).status_code == 201


def test_the_database_failing_mid_import_is_a_json_503_and_nothing_is_written(client, raw_key):
    def fail_on_insert(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT"):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_on_insert):
        response = put(client, json.dumps(import_order_data()), raw_key)

    assert response.status_code == 503
    assert "errors" in response.json()
    assert not Order.objects.exists()

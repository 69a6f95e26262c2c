"""`PUT /api/v1/stores/{code}/orders/{order_id}`: key per store, upsert, JSON errors."""

import json

import pytest

from rma.apikeys import api_key_create, api_key_revoke
from rma.importing import import_document
from rma.models import Order, Store
from tests.factories import import_line_data, import_order_data, spec_import_document

pytestmark = pytest.mark.django_db

URL = "/api/v1/stores/TMSUS/orders/3000179302"


@pytest.fixture
def store():
    document = spec_import_document()
    document["orders"] = []
    import_document(document)
    return Store.objects.get(code="TMSUS")


@pytest.fixture
def raw_key(store):
    return api_key_create(store=store, name="ERP")[1]


def put(client, body, key, url=URL):
    data = body if isinstance(body, str) else json.dumps(body)
    headers = {"apikey": key} if key is not None else {}
    return client.put(url, data=data, content_type="application/json", headers=headers)


def test_creates_then_updates_the_order(client, raw_key):
    created = put(client, import_order_data(), raw_key)

    assert created.status_code == 201
    body = created.json()
    assert (body["store"], body["order_id"], body["status"]) == ("TMSUS", "3000179302", "DELIVERED")
    assert body["placed_at"] == "2026-11-01T10:00:00+00:00"
    assert body["lines"][0] == {
        **import_line_data(),
        "weight": "1.2",
        "image_url": "",
        "discount": "0.00",
        "tax": "0.00",
    }

    updated = put(client, import_order_data(status="CLOSED"), raw_key)

    assert updated.status_code == 200
    assert updated.json()["status"] == "CLOSED"
    assert Order.objects.get().status == "CLOSED"


def test_store_and_order_id_may_be_left_to_the_url(client, raw_key):
    body = import_order_data()
    del body["store"], body["order_id"]

    response = put(client, body, raw_key)

    assert response.status_code == 201
    assert Order.objects.get().order_id == "3000179302"


def test_validation_errors_are_400_with_every_error(client, raw_key):
    body = import_order_data(order_id="OTHER", lines=[import_line_data(quantity=0, colour="red")])

    response = put(client, body, raw_key)

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            'order.order_id: "OTHER" does not match "3000179302" in the URL',
            'order.lines[0]: unknown key "colour" (order TMSUS 3000179302)',
            "order.lines[0].quantity: must be at least 1 (got 0) (order TMSUS 3000179302)",
        ]
    }
    assert not Order.objects.exists()


def test_invalid_json_is_400(client, raw_key):
    response = put(client, '{"status": ', raw_key)

    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("the body is not valid JSON")


def test_a_body_that_is_not_an_object_is_400(client, raw_key):
    response = put(client, [1, 2], raw_key)

    assert response.status_code == 400
    assert response.json() == {"errors": ["order: must be an object, not a list"]}


def other_stores_key(store):
    other = Store.objects.create(code="OTHER", name="Other", currency="USD")
    return api_key_create(store=other, name="ERP")[1]


def revoked_key(store):
    api_key, raw_key = api_key_create(store=store, name="old")
    api_key_revoke(api_key=api_key)
    return raw_key


@pytest.mark.parametrize(
    "make_key",
    [
        lambda store: None,
        lambda store: "rp_wrongwrongwrongwrongwrongwrongwrongwrongwrong",
        revoked_key,
        other_stores_key,
    ],
    ids=["missing", "wrong", "revoked", "other store"],
)
def test_bad_keys_are_401_alike_and_change_nothing(client, store, make_key):
    response = put(client, import_order_data(), make_key(store))

    assert response.status_code == 401
    assert response.json() == {
        "errors": ["missing or invalid API key (send it in the apikey header)"]
    }
    assert not Order.objects.exists()


def test_unknown_store_is_404_before_the_key_is_checked(client):
    response = put(client, import_order_data(), None, url="/api/v1/stores/NOPE/orders/1")

    assert response.status_code == 404
    assert response.json() == {"errors": ['store "NOPE" not found']}


def test_other_methods_are_405(client, raw_key):
    response = client.get(URL, headers={"apikey": raw_key})

    assert response.status_code == 405
    assert response["Allow"] == "PUT"


def test_csrf_is_not_required(raw_key):
    from django.test import Client

    response = put(Client(enforce_csrf_checks=True), import_order_data(), raw_key)

    assert response.status_code == 201


def test_bodies_over_the_limit_are_413(client, raw_key, settings):
    settings.API_MAX_BODY_BYTES = 100

    response = put(client, import_order_data(), raw_key)

    assert response.status_code == 413
    assert not Order.objects.exists()

"""`PUT /api/v1/stores/{code}/products/{product_id}`: key per store, upsert, JSON errors."""

import json

import pytest

from catalogue.models import Product, Variant
from rma.apikeys import api_key_create, api_key_revoke
from tests.catalogue.factories import product_data, tee_variants, variant_data
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/stores/TMSUS/products/TEE-1"


@pytest.fixture
def store():
    return StoreFactory(code="TMSUS")


@pytest.fixture
def raw_key(store):
    return api_key_create(store=store, name="PIM")[1]


def put(client, body, key, url=URL):
    data = body if isinstance(body, str) else json.dumps(body)
    headers = {"apikey": key} if key is not None else {}
    return client.put(url, data=data, content_type="application/json", headers=headers)


def test_creates_then_updates_the_product(client, raw_key):
    created = put(client, product_data(variants=tee_variants()), raw_key)

    assert created.status_code == 201
    body = created.json()
    assert body["product_id"] == "TEE-1"
    assert body["image_url"] == "https://cdn.example/tee.jpg"
    assert [variant["item_id"] for variant in body["variants"]] == [
        "TEE-1-M-BLU",
        "TEE-1-L-BLU",
        "TEE-1-S-GRN",
    ]
    assert body["variants"][0] == variant_data()
    assert list(body["variants"][2]["options"]) == ["Size", "Colour"]

    updated = put(
        client, product_data(title="Organic tee, new", variants=[variant_data(stock=7)]), raw_key
    )

    assert updated.status_code == 200
    assert updated.json()["title"] == "Organic tee, new"
    assert [variant["stock"] for variant in updated.json()["variants"]] == [7]
    assert Product.objects.get().title == "Organic tee, new"
    assert list(Variant.objects.values_list("item_id", flat=True)) == ["TEE-1-M-BLU"]


def test_the_same_body_twice_changes_nothing(client, raw_key):
    put(client, product_data(variants=tee_variants()), raw_key)
    before = list(Variant.objects.order_by("pk").values())

    again = put(client, product_data(variants=tee_variants()), raw_key)

    assert again.status_code == 200
    assert list(Variant.objects.order_by("pk").values()) == before


def test_product_id_may_be_left_to_the_url(client, raw_key):
    body = product_data()
    del body["product_id"]

    assert put(client, body, raw_key).status_code == 201
    assert Product.objects.get().product_id == "TEE-1"


def test_validation_errors_are_400_with_every_error_and_nothing_is_written(client, raw_key):
    body = product_data(
        product_id="TEE-9",
        variants=[variant_data(stock=-2), variant_data("TEE-1-L", price="lots", colour="red")],
    )

    response = put(client, body, raw_key)

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            'product.product_id: "TEE-9" does not match "TEE-1" in the URL',
            "product.variants[0].stock: must be at least 0 (got -2)",
            'product.variants[1]: unknown key "colour"',
            "product.variants[1].price: must be a decimal number, not 'lots'",
        ]
    }
    assert not Product.objects.exists()
    assert not Variant.objects.exists()


def test_an_item_of_another_product_is_refused(client, raw_key):
    put(client, product_data(variants=tee_variants()), raw_key)

    response = put(
        client,
        product_data("TEE-2", variants=[variant_data("TEE-1-S-GRN")]),
        raw_key,
        url="/api/v1/stores/TMSUS/products/TEE-2",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        'product.variants[0].item_id: "TEE-1-S-GRN" already belongs to product "TEE-1" of'
        ' store "TMSUS" (an item belongs to one product only)'
    ]
    assert not Product.objects.filter(product_id="TEE-2").exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "the body is not valid JSON"),
        ("[]", "product: must be an object, not a list"),
        ("null", "product: must be an object, not null"),
    ],
)
def test_malformed_bodies_are_400(client, raw_key, body, message):
    response = put(client, body, raw_key)

    assert response.status_code == 400
    assert response.json()["errors"][0].startswith(message)


def test_missing_wrong_revoked_and_other_store_keys_are_401(client, store, raw_key):
    other_key = api_key_create(store=StoreFactory(code="OTHER"), name="x")[1]
    revoked, revoked_raw = api_key_create(store=store, name="old")
    api_key_revoke(api_key=revoked)

    for key in (None, "", "rp_wrong", other_key, revoked_raw):
        response = put(client, product_data(), key)
        assert response.status_code == 401, key
        assert response.json() == {
            "errors": ["missing or invalid API key (send it in the apikey header)"]
        }
    assert not Product.objects.exists()


def test_unknown_store_is_404(client, raw_key):
    response = put(client, product_data(), raw_key, url="/api/v1/stores/NOPE/products/TEE-1")

    assert response.status_code == 404
    assert response.json() == {"errors": ['store "NOPE" not found']}


def test_other_methods_are_405(client, raw_key):
    response = client.get(URL, headers={"apikey": raw_key})

    assert response.status_code == 405
    assert response["Allow"] == "PUT"


def test_a_body_over_the_limit_is_413(client, raw_key, settings):
    settings.API_MAX_BODY_BYTES = 100

    response = put(client, product_data(variants=tee_variants()), raw_key)

    assert response.status_code == 413
    assert not Product.objects.exists()


def test_a_failure_of_ours_is_a_json_500(client, raw_key, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("catalogue.api.product_import", broken)

    response = put(client, product_data(), raw_key)

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "the product was not saved" in response.json()["errors"][0]

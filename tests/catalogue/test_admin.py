"""The catalogue in the admin: lists load, a variant added by hand takes its product's store."""

import pytest

from catalogue.models import Variant
from tests.catalogue.factories import ExchangeReservationFactory, ProductFactory, VariantFactory
from tests.factories import RmaLineFactory

pytestmark = pytest.mark.django_db


def test_the_lists_load(admin_client):
    ExchangeReservationFactory(rma_line=RmaLineFactory(), variant=VariantFactory())

    assert admin_client.get("/admin/catalogue/product/?q=VAR").status_code == 200
    assert admin_client.get("/admin/catalogue/exchangereservation/").status_code == 200


def test_a_variant_added_by_hand_takes_its_products_store(admin_client):
    product = ProductFactory()
    prefix = "variants"
    form = {
        "store": product.store_id,
        "product_id": product.product_id,
        "title": product.title,
        "image_url": "",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-0-item_id": "HAND-1",
        f"{prefix}-0-options": '[["Size", "M"]]',
        f"{prefix}-0-price": "10.00",
        f"{prefix}-0-stock": "3",
        f"{prefix}-0-image_url": "",
        f"{prefix}-0-position": "0",
    }

    response = admin_client.post(f"/admin/catalogue/product/{product.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    variant = Variant.objects.get(item_id="HAND-1")
    assert variant.store_id == product.store_id
    assert variant.options_dict == {"Size": "M"}

"""The demo catalogue: it loads, its pictures exist, and demo orders have exchange options."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from catalogue.models import Product, Variant
from catalogue.selectors import exchange_options_for_order
from rma.demo import demo_document
from rma.models import Order, OrderLine

pytestmark = pytest.mark.django_db

STATIC = Path(settings.BASE_DIR) / "static"


def load() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_the_demo_loads_its_catalogue_once():
    first = load()
    counts = (Product.objects.count(), Variant.objects.count())

    second = load()

    assert "products: 7 created" in first
    assert "products: 0 created, 0 updated, 7 unchanged" in second
    assert (Product.objects.count(), Variant.objects.count()) == counts


def test_every_picture_is_a_local_static_file():
    load()
    paths = {*Product.objects.values_list("image_url", flat=True)} | {
        url for url in Variant.objects.values_list("image_url", flat=True) if url
    }

    for path in paths:
        assert path.startswith(settings.STATIC_URL), path
        assert (STATIC / path.removeprefix(settings.STATIC_URL)).is_file(), path


def test_every_product_has_the_item_of_a_demo_order_line():
    load()
    ordered = set(OrderLine.objects.values_list("order__store__code", "item_id"))

    for product in Product.objects.prefetch_related("variants").select_related("store"):
        items = {(product.store.code, variant.item_id) for variant in product.variants.all()}
        assert items & ordered, product.product_id


def test_a_demo_order_offers_variants_in_stock_and_not():
    load()
    order = Order.objects.select_related("store").get(order_id="3000179302")

    options = exchange_options_for_order(order=order)
    case = next(line for line in options.values() if line.item_id == "21-RITOCS004b")

    assert [option.item_id for option in case.available_options] == [
        "21-RITOCS003b",
        "21-RITOCS004g",
    ]
    assert {option.item_id for option in case.options if not option.in_stock} == {"21-RITOCS006g"}
    assert case.image_url == "/static/catalogue/demo/laptop-case.svg"


def test_the_demo_document_keeps_its_products_beside_its_stores():
    stores = {store["code"]: store for store in demo_document()["stores"]}

    assert {len(stores["TMSUS"]["products"]), len(stores["TMSDE"]["products"])} == {4, 3}

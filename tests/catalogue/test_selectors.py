"""Exchange options of an order's lines: what is offered, and a constant number of queries."""

from decimal import Decimal

import pytest

from catalogue.models import Variant
from catalogue.selectors import exchange_options_for_order, order_page_variants
from rma.models import Order
from rma.policy import StorePolicy
from tests.catalogue.factories import ProductFactory, VariantFactory
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(code="TMSUS")


def tee(store, product_id="TEE-1", *, prices=("25.00", "25.00", "19.00", "30.00")):
    """A product with variants M (stock 4), L (none left), S (cheaper), XL (dearer)."""
    product = ProductFactory(store=store, product_id=product_id, title=f"Tee {product_id}")
    sizes = ("M", "L", "S", "XL")
    stocks = (4, 0, 2, 5)
    for position, (size, price, stock) in enumerate(zip(sizes, prices, stocks, strict=True)):
        VariantFactory(
            product=product,
            item_id=f"{product_id}-{size}",
            options=[["Size", size], ["Colour", "Blue"]],
            position=position,
            price=Decimal(price),
            stock=stock,
            image_url="https://cdn.example/xl.jpg" if size == "XL" else "",
        )
    return product


def options_of(order, line) -> dict:
    found = exchange_options_for_order(order=order)[line.pk]
    return {
        option.item_id: (option.in_stock, option.within_paid, option.available)
        for option in found.options
    }


def test_the_other_variants_of_the_lines_product_in_stock_or_not(store):
    tee(store)
    order = OrderFactory(store=store)
    line = OrderLineFactory(order=order, item_id="TEE-1-M", unit_price=Decimal("25.00"))

    found = exchange_options_for_order(order=order)[line.pk]

    assert (found.line_number, found.item_id, found.product_id) == (
        line.line_number,
        "TEE-1-M",
        "TEE-1",
    )
    assert found.paid_per_unit == Decimal("25.00")
    assert [option.item_id for option in found.options] == ["TEE-1-L", "TEE-1-S", "TEE-1-XL"]
    assert options_of(order, line) == {
        "TEE-1-L": (False, True, False),
        "TEE-1-S": (True, True, True),
        "TEE-1-XL": (True, False, False),
    }
    xl = found.options[2]
    assert xl.options == {"Size": "XL", "Colour": "Blue"}
    assert xl.options_label == "Size: XL, Colour: Blue"
    assert (xl.price, xl.stock, xl.title, xl.same_product) == (
        Decimal("30.00"),
        5,
        "Tee TEE-1",
        True,
    )
    assert xl.image_url == "https://cdn.example/xl.jpg"
    assert found.options[0].image_url == "https://cdn.example/product.jpg"
    assert [option.item_id for option in found.available_options] == ["TEE-1-S"]
    # The line has no picture of its own: its product's.
    assert found.image_url == "https://cdn.example/product.jpg"


def test_the_price_is_compared_with_what_was_paid_per_unit(store):
    tee(store)
    order = OrderFactory(store=store)
    # 2 x 25.00 - 12.00 discount = 19.00 per unit: S (19.00) fits, M (25.00) does not.
    line = OrderLineFactory(
        order=order,
        item_id="TEE-1-L",
        quantity=2,
        unit_price=Decimal("25.00"),
        discount=Decimal("12.00"),
    )

    assert options_of(order, line) == {
        "TEE-1-M": (True, False, False),
        "TEE-1-S": (True, True, True),
        "TEE-1-XL": (True, False, False),
    }


def test_other_products_only_when_the_policy_allows_them(store):
    tee(store)
    tee(store, "TEE-2", prices=("20.00", "20.00", "40.00", "5.00"))
    order = OrderFactory(store=store)
    line = OrderLineFactory(order=order, item_id="TEE-1-M", unit_price=Decimal("25.00"))

    assert set(options_of(order, line)) == {"TEE-1-L", "TEE-1-S", "TEE-1-XL"}

    store.policy = {"exchange": {"allow_other_products": True}}
    store.save()
    order = Order.objects.select_related("store").get(pk=order.pk)
    found = exchange_options_for_order(order=order)[line.pk]

    # The own product's variants first (all of them), then other products' that can be had.
    assert [(option.item_id, option.same_product) for option in found.options] == [
        ("TEE-1-L", True),
        ("TEE-1-S", True),
        ("TEE-1-XL", True),
        ("TEE-2-M", False),
        ("TEE-2-XL", False),
    ]


def test_a_line_whose_item_is_not_in_the_catalogue_has_no_options(store):
    tee(store)
    order = OrderFactory(store=store)
    known = OrderLineFactory(order=order, item_id="TEE-1-M", line_number=1)
    unknown = OrderLineFactory(
        order=order, item_id="MUG-9", line_number=2, image_url="https://cdn.example/mug.jpg"
    )

    found = exchange_options_for_order(order=order)

    assert found[unknown.pk].options == ()
    assert found[unknown.pk].product_id == ""
    assert found[unknown.pk].image_url == "https://cdn.example/mug.jpg"
    assert len(found[known.pk].options) == 3


def test_another_stores_catalogue_is_not_used(store):
    tee(StoreFactory(code="OTHER"))
    order = OrderFactory(store=store)
    line = OrderLineFactory(order=order, item_id="TEE-1-M")

    assert exchange_options_for_order(order=order)[line.pk].options == ()


@pytest.mark.parametrize("products", [1, 50])
@pytest.mark.parametrize("allow_other_products", [False, True])
def test_a_constant_number_of_queries(
    store, django_assert_num_queries, products, allow_other_products
):
    store.policy = {"exchange": {"allow_other_products": allow_other_products}}
    store.save()
    order = OrderFactory(store=store)
    for number in range(products):
        tee(store, f"P{number:03d}")
        OrderLineFactory(
            order=order,
            line_number=number + 1,
            item_id=f"P{number:03d}-M",
            quantity=1,
            unit_price=Decimal("25.00"),
        )
    order = Order.objects.select_related("store").get(pk=order.pk)

    # One for the order's lines, one for the variants with their products.
    with django_assert_num_queries(2):
        found = exchange_options_for_order(order=order)

    assert len(found) == products
    # Other products offer their two variants in stock and within the price (M and S).
    per_line = 3 + (products - 1) * 2 if allow_other_products else 3
    assert {len(options.options) for options in found.values()} == {per_line}


@pytest.mark.parametrize(
    ("resolutions", "allow_other_products"),
    [(["REFUND"], False), (["REFUND", "EXCHANGE"], False), (["REFUND", "EXCHANGE"], True)],
)
def test_the_order_pages_one_read_gives_what_the_two_reads_gave(
    store, django_assert_num_queries, resolutions, allow_other_products
):
    store.policy = {
        "resolutions": resolutions,
        "exchange": {"allow_other_products": allow_other_products},
    }
    store.save()
    tee(store, "TEE-1")
    tee(store, "TEE-2")
    tee(store, "TEE-3")
    tee(StoreFactory(code="OTHER"), "TEE-1")
    order = OrderFactory(store=store)
    OrderLineFactory(order=order, line_number=1, item_id="TEE-1-M", unit_price=Decimal("25"))
    OrderLineFactory(order=order, line_number=2, item_id="TEE-2-S", unit_price=Decimal("19"))
    OrderLineFactory(order=order, line_number=3, item_id="MUG-9")
    order = Order.objects.select_related("store").get(pk=order.pk)
    policy = StorePolicy.of(store)

    with django_assert_num_queries(1):
        variants = order_page_variants(order=order, policy=policy)

    # The items' own variants, as the page showed them from a query of their own...
    items = {"TEE-1-M", "TEE-2-S", "MUG-9"}
    assert {v.item_id: v.pk for v in variants if v.item_id in items} == {
        v.item_id: v.pk for v in Variant.objects.filter(store=store, item_id__in=items)
    }
    # ...and, with exchanges, the same choices as from the exchange options' own query.
    if "EXCHANGE" in resolutions:
        assert exchange_options_for_order(
            order=order, variants=variants
        ) == exchange_options_for_order(order=order)

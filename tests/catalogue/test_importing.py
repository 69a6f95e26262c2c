"""The `products` of a store in the import format: validation naming the key, all or
nothing, idempotent bulk upsert."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import Product, Variant
from rma.importing import ImportValidationError, import_document
from rma.models import Order, Store
from tests.catalogue.factories import (
    ExchangeReservationFactory,
    product_data,
    tee_variants,
    variant_data,
)
from tests.factories import RmaLineFactory, spec_import_document

pytestmark = pytest.mark.django_db

WHERE = "stores[0].products"
# Per import of the spec document with products, however many (see the test at the end).
EXPECTED_QUERIES = 11


def document_with(*products) -> dict:
    document = spec_import_document()
    document["stores"][0]["products"] = list(products)
    return document


def refused(document) -> list[str]:
    with pytest.raises(ImportValidationError) as raised:
        import_document(document)
    return raised.value.errors


def catalogue_snapshot() -> dict:
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Store, Order, Product, Variant)
    }


def test_imports_products_with_their_variants_in_order():
    document = document_with(
        product_data(variants=tee_variants()),
        product_data("MUG-1", title="Mug", image_url=None, variants=[variant_data("MUG-1-W")]),
    )

    result = import_document(document)

    assert str(result.products) == "2 created, 0 updated, 0 unchanged"
    assert str(result.variants) == "4 created, 0 updated, 0 unchanged"
    tee = Product.objects.get(product_id="TEE-1")
    assert (tee.store.code, tee.title, tee.image_url) == (
        "TMSUS",
        "Organic tee",
        "https://cdn.example/tee.jpg",
    )
    variants = list(tee.variants.order_by("position"))
    assert [v.item_id for v in variants] == ["TEE-1-M-BLU", "TEE-1-L-BLU", "TEE-1-S-GRN"]
    green = variants[2]
    assert green.options_dict == {"Size": "S", "Colour": "Green"}
    assert list(green.options_dict) == ["Size", "Colour"]
    assert (green.price, green.stock, green.store.code) == (Decimal("19.00"), 2, "TMSUS")
    assert green.picture_url == "https://cdn.example/tee-green.jpg"
    # No picture of its own: the product's.
    assert variants[0].picture_url == "https://cdn.example/tee.jpg"
    assert Product.objects.get(product_id="MUG-1").image_url == ""
    assert "products: 2 created" in result.summary()


def test_pictures_may_be_paths_on_this_site():
    document = document_with(
        product_data(
            image_url="/static/catalogue/demo/tee.svg",
            variants=[variant_data(image_url="/static/catalogue/demo/tee-blue.svg")],
        )
    )

    import_document(document)

    assert Product.objects.get().image_url == "/static/catalogue/demo/tee.svg"
    assert Variant.objects.get().picture_url == "/static/catalogue/demo/tee-blue.svg"


def test_option_order_is_kept_whatever_the_names():
    options = {"Zeta": "1", "Alpha": "2", "Middle name longer": "3"}
    import_document(document_with(product_data(variants=[variant_data(options=options)])))

    assert list(Variant.objects.get().options_dict.items()) == list(options.items())


def test_importing_again_changes_nothing():
    document = document_with(product_data(variants=tee_variants()))
    import_document(document)
    before = catalogue_snapshot()

    result = import_document(document)

    assert str(result.products) == "0 created, 0 updated, 1 unchanged"
    assert str(result.variants) == "0 created, 0 updated, 3 unchanged"
    assert catalogue_snapshot() == before


def test_a_store_without_products_keeps_the_summary_as_it_was():
    result = import_document(spec_import_document())

    assert "products" not in result.summary()
    assert not Product.objects.exists()


def test_reimport_updates_variants_and_deletes_the_ones_no_longer_listed():
    import_document(document_with(product_data(variants=tee_variants())))
    changed = [
        variant_data("TEE-1-M-BLU", price="27.50", stock=9),
        variant_data("TEE-1-XL-RED", options={"Size": "XL", "Colour": "Red"}),
    ]

    result = import_document(document_with(product_data(title="Organic tee v2", variants=changed)))

    assert str(result.products) == "0 created, 1 updated, 0 unchanged"
    assert str(result.variants) == "1 created, 1 updated, 0 unchanged, 2 deleted"
    assert Product.objects.get().title == "Organic tee v2"
    assert dict(Variant.objects.values_list("item_id", "stock")) == {
        "TEE-1-M-BLU": 9,
        "TEE-1-XL-RED": 4,
    }
    assert Variant.objects.get(item_id="TEE-1-M-BLU").price == Decimal("27.50")


def test_a_variant_an_exchange_refers_to_is_kept_without_stock():
    import_document(document_with(product_data(variants=tee_variants())))
    green = Variant.objects.get(item_id="TEE-1-S-GRN")
    ExchangeReservationFactory(variant=green, rma_line=RmaLineFactory())

    result = import_document(document_with(product_data(variants=[variant_data()])))

    green.refresh_from_db()
    assert green.stock == 0
    assert not Variant.objects.filter(item_id="TEE-1-L-BLU").exists()
    assert result.warnings == [
        'variant "TEE-1-S-GRN" is not in the import but is kept, without stock, because'
        " exchanges refer to it"
    ]


def test_an_item_may_move_between_two_products_of_the_document():
    import_document(document_with(product_data(variants=tee_variants())))
    green = Variant.objects.get(item_id="TEE-1-S-GRN")

    import_document(
        document_with(
            product_data(variants=[variant_data()]),
            product_data("TEE-2", variants=[variant_data("TEE-1-S-GRN")]),
        )
    )

    moved = Variant.objects.get(item_id="TEE-1-S-GRN")
    assert moved.pk == green.pk
    assert moved.product.product_id == "TEE-2"


def test_an_item_of_a_product_left_out_cannot_join_another():
    import_document(document_with(product_data(variants=tee_variants())))
    before = catalogue_snapshot()

    errors = refused(document_with(product_data("TEE-2", variants=[variant_data("TEE-1-S-GRN")])))

    assert errors == [
        f'{WHERE}[0].variants[0].item_id: "TEE-1-S-GRN" already belongs to product "TEE-1"'
        ' of store "TMSUS" (an item belongs to one product only)'
    ]
    assert catalogue_snapshot() == before


def test_the_same_item_id_in_another_store_is_another_variant():
    document = document_with(product_data())
    other = {**document["stores"][0], "code": "TMSCA", "suppliers": []}
    other["products"] = [product_data()]
    document["stores"].append(other)

    import_document(document)

    assert Variant.objects.filter(item_id="TEE-1-M-BLU").count() == 2


BROKEN = {
    "unknown key in a product": (
        product_data(colour="red"),
        [f'{WHERE}[0]: unknown key "colour"'],
    ),
    "unknown key in a variant": (
        product_data(variants=[variant_data(weight="1")]),
        [f'{WHERE}[0].variants[0]: unknown key "weight"'],
    ),
    "negative stock": (
        product_data(variants=[variant_data(stock=-1)]),
        [f"{WHERE}[0].variants[0].stock: must be at least 0 (got -1)"],
    ),
    "stock not a whole number": (
        product_data(variants=[variant_data(stock="4")]),
        [f"{WHERE}[0].variants[0].stock: must be a whole number, not '4'"],
    ),
    "price not a decimal": (
        product_data(variants=[variant_data(price="cheap")]),
        [f"{WHERE}[0].variants[0].price: must be a decimal number, not 'cheap'"],
    ),
    "negative price": (
        product_data(variants=[variant_data(price="-1.00")]),
        [f"{WHERE}[0].variants[0].price: must be at least 0 (got -1.00)"],
    ),
    "price with three decimals": (
        product_data(variants=[variant_data(price="1.005")]),
        [f"{WHERE}[0].variants[0].price: must have at most 2 decimal places (got 1.005)"],
    ),
    "missing price and item id": (
        product_data(variants=[{"options": {}, "stock": 1}]),
        [
            f'{WHERE}[0].variants[0]: missing required key "item_id"',
            f'{WHERE}[0].variants[0]: missing required key "price"',
        ],
    ),
    "no variants": (
        product_data(variants=[]),
        [f"{WHERE}[0].variants: must not be empty"],
    ),
    "options not an object": (
        product_data(variants=[variant_data(options=["M", "Blue"])]),
        [
            f"{WHERE}[0].variants[0].options: must be an object of option names and values,"
            " not a list"
        ],
    ),
    "option value not a string": (
        product_data(variants=[variant_data(options={"Size": 42})]),
        [f"{WHERE}[0].variants[0].options.Size: must be a string, not a number"],
    ),
    "image not a URL": (
        product_data(image_url="tee.jpg"),
        [f'{WHERE}[0].image_url: "tee.jpg" is not a valid http(s) URL'],
    ),
    "picture on another site without a scheme": (
        product_data(image_url="//evil.example/tee.png"),
        [
            f'{WHERE}[0].image_url: "//evil.example/tee.png" is not a valid path on this site'
            " (letters, digits and / . _ ~ % + -, at most 200 characters)"
        ],
    ),
    "picture path with a space": (
        product_data(variants=[variant_data(image_url="/static/my tee.png")]),
        [
            f'{WHERE}[0].variants[0].image_url: "/static/my tee.png" is not a valid path on'
            " this site (letters, digits and / . _ ~ % + -, at most 200 characters)"
        ],
    ),
    "picture as a javascript URL": (
        product_data(image_url="javascript:alert(1)"),
        [f'{WHERE}[0].image_url: "javascript:alert(1)" is not a valid http(s) URL'],
    ),
    "missing title": (
        {k: v for k, v in product_data().items() if k != "title"},
        [f'{WHERE}[0]: missing required key "title"'],
    ),
}


@pytest.mark.parametrize(("product", "expected"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_product_is_refused_naming_the_key_and_nothing_is_written(product, expected):
    before = catalogue_snapshot()

    errors = refused(document_with(product))

    assert errors == expected
    assert catalogue_snapshot() == before


def test_a_duplicate_item_id_across_products_is_refused():
    document = document_with(
        product_data(variants=tee_variants()),
        product_data("TEE-2", variants=[variant_data("TEE-2-M"), variant_data("TEE-1-L-BLU")]),
    )

    assert refused(document) == [
        f'{WHERE}[1].variants[1].item_id: "TEE-1-L-BLU" is already used by'
        " products[0].variants[1] (an item belongs to one product only)"
    ]
    assert not Store.objects.exists()


def test_duplicates_within_a_product_and_of_product_ids_are_refused():
    document = document_with(
        product_data(variants=[variant_data(), variant_data()]),
        product_data(variants=[variant_data("TEE-1-XS")]),
    )

    assert refused(document) == [
        f"{WHERE}[0].variants[1].item_id: 'TEE-1-M-BLU' is already used by variants[0]",
        f"{WHERE}[1].product_id: 'TEE-1' is already used by products[0]",
    ]


def test_products_must_be_a_list():
    document = spec_import_document()
    document["stores"][0]["products"] = {"TEE-1": product_data()}

    assert refused(document) == ["stores[0].products: must be a list, not an object"]


def test_a_valid_catalogue_is_not_written_when_an_order_is_broken():
    document = document_with(product_data())
    document["orders"][0]["lines"][0]["quantity"] = 0

    refused(document)

    assert not Product.objects.exists()
    assert not Variant.objects.exists()


def many_products(count: int, price: str = "25.00") -> dict:
    return document_with(
        *(
            product_data(
                f"P{number:03d}",
                variants=[
                    variant_data(f"P{number:03d}-{size}", price=price) for size in ("S", "M", "L")
                ],
            )
            for number in range(count)
        )
    )


def queries_to_import(document) -> int:
    with CaptureQueriesContext(connection) as captured:
        import_document(document)
    return len(captured)


@pytest.mark.parametrize("count", [1, 30])
def test_the_number_of_queries_does_not_grow_with_the_catalogue(count):
    import_document(spec_import_document())

    created = queries_to_import(many_products(count))
    updated = queries_to_import(many_products(count, price="20.00"))

    assert Variant.objects.filter(price=Decimal("20.00")).count() == 3 * count
    # A savepoint and its release, the store, suppliers, orders, lines and suppliers again
    # read (7), then products and variants read (2), products inserted (1) and variants
    # inserted (1); on update, products unchanged and variants updated (1). (SQLite splits
    # an insert of more than about 100 variants for its limit of 999 parameters.)
    assert (created, updated) == (EXPECTED_QUERIES, EXPECTED_QUERIES - 1)


def test_paths_stay_right_after_an_invalid_variant():
    document = document_with(
        product_data(variants=[variant_data("TEE-1-S", stock=-1), variant_data("TEE-1-M")]),
        product_data("TEE-2", variants=[variant_data("TEE-1-M")]),
    )

    assert refused(document) == [
        f"{WHERE}[0].variants[0].stock: must be at least 0 (got -1)",
        f'{WHERE}[1].variants[0].item_id: "TEE-1-M" is already used by'
        " products[0].variants[1] (an item belongs to one product only)",
    ]

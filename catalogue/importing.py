"""The `products` of a store in the import format, and their upsert.

A store object of the import document may carry `"products": [...]`; the PUT endpoint
(`catalogue.api`) takes one product object. Both are read here without queries (every
problem collected, each naming its key path), then checked against the database and
written in bulk inside the import's one transaction (`rma.importing.upsert` calls
`CatalogueImport`).

Rules:
- a product's `variants` are all of its variants: a re-import updates the listed ones
  (stock included: the document's figure replaces ours) and deletes the others, except a
  variant an exchange reservation refers to, which is kept with its stock set to 0;
- an `item_id` is unique in a store: the same item in two products is refused, unless
  both products are in the document and it moves from one to the other;
- `options` keep their order (stored as `[name, value]` pairs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from rma.importing.fields import (
    Field,
    Problems,
    decimal,
    integer,
    join,
    object_of,
    read_object,
    text,
    type_name,
    url,
)
from rma.importing.schema import max_length, unique_by
from rma.importing.upsert import BATCH_SIZE, Tally, assign_changed, in_chunks
from rma.models import Store

from .models import ExchangeReservation, Product, Variant

# More options or variants than this is a data error upstream, not a product.
MAX_OPTIONS = 10
MAX_VARIANTS = 1000
OPTION_TEXT_LENGTH = 100


_option_text = text(OPTION_TEXT_LENGTH, blank=False)


def read_options(value, where: str, problems: Problems) -> list[list[str]] | None:
    """`{"Size": "M", "Colour": "Blue"}` -> `[["Size", "M"], ["Colour", "Blue"]]`, in order."""
    if not isinstance(value, dict):
        problems.add(where, f"must be an object of option names and values, not {type_name(value)}")
        return None
    if len(value) > MAX_OPTIONS:
        problems.add(where, f"must have at most {MAX_OPTIONS} options (got {len(value)})")
        return None
    pairs = []
    for name, option in value.items():
        # The name is a key: report it on the object, quoted.
        checked_name = _option_text(name, f"{where}[{name!r}]", problems)
        checked_value = _option_text(option, join(where, name), problems)
        if checked_name is not None and checked_value is not None:
            pairs.append([checked_name, checked_value])
    return pairs


# A picture on this site: an absolute path, never "//host" (another site).
SITE_PATH = re.compile(r"/(?!/)[A-Za-z0-9/._~%+-]*")


def read_picture(value, where: str, problems: Problems) -> str | None:
    """An http(s) URL, or a path on this site (the demo's pictures under /static/)."""
    if isinstance(value, str) and value.startswith("/"):
        if len(value) > 200 or not SITE_PATH.fullmatch(value):
            problems.add(
                where,
                f'"{value}" is not a valid path on this site (letters, digits and / . _ ~ % + -,'
                " at most 200 characters)",
            )
            return None
        return value
    return url(value, where, problems)


def _price():
    field = Variant._meta.get_field("price")
    return decimal(decimal_places=field.decimal_places, max_digits=field.max_digits)


VARIANT = {
    "item_id": Field(text(max_length(Variant, "item_id"), blank=False), required=True),
    "options": Field(read_options, default=()),
    "price": Field(_price(), required=True),
    "stock": Field(integer(minimum=0), default=0),
    # null: the product's picture.
    "image_url": Field(read_picture, default=""),
}


PRODUCT = {
    "product_id": Field(text(max_length(Product, "product_id"), blank=False), required=True),
    "title": Field(text(max_length(Product, "title"), blank=False), required=True),
    "image_url": Field(read_picture, default=""),
    "variants": Field(
        unique_by("item_id", object_of(VARIANT), non_empty=True, maximum=MAX_VARIANTS),
        required=True,
    ),
}


def read_product(value, where: str, problems: Problems) -> dict | None:
    """One product object. An invalid variant stays as None, so that indexes keep matching
    the document (which is refused anyway)."""
    product = read_object(value, PRODUCT, where, problems)
    if product is None:
        return None
    product["variants"] = product["variants"] or []
    return product


def _variants(product: dict):
    """(index, variant) of the product's readable variants."""
    return [(index, variant) for index, variant in enumerate(product["variants"]) if variant]


def read_products(value, where: str, problems: Problems) -> list[tuple[str, dict]]:
    """A store's `products` as (path, product) pairs: product ids once each, and each item
    id in one product only."""
    products = unique_by("product_id", read_product)(value, where, problems) or []
    first_use = {}
    for index, product in enumerate(products):
        if product is None:
            continue
        for position, variant in _variants(product):
            here = f"products[{index}].variants[{position}]"
            item_id = variant["item_id"]
            if item_id in first_use and first_use[item_id][0] != index:
                problems.add(
                    f"{where}[{index}].variants[{position}].item_id",
                    f'"{item_id}" is already used by {first_use[item_id][1]}'
                    " (an item belongs to one product only)",
                )
            else:
                first_use.setdefault(item_id, (index, here))
    return [
        (f"{where}[{index}]", product)
        for index, product in enumerate(products)
        if product is not None
    ]


@dataclass
class StoreProducts:
    """The products the document gives for one store, each with its path in the document."""

    store_code: str
    products: list[tuple[str, dict]]


@dataclass
class CatalogueImport:
    """The catalogue part of one import: load what exists, check, then write.

    Queries: one for the products and one for the variants (locked when writing, so a
    concurrent exchange reservation waits), one for reservations of variants to delete,
    then bulk writes.
    """

    rows: list[StoreProducts]
    products: dict[tuple[str, str], Product] = field(default_factory=dict)
    variants: dict[tuple[str, str], Variant] = field(default_factory=dict)
    products_tally: Tally = field(default_factory=Tally)
    variants_tally: Tally = field(default_factory=Tally)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, rows: list[StoreProducts], *, stores: dict[str, Store], lock: bool):
        catalogue = cls(rows=[row for row in rows if row.products])
        product_filters, variant_filters = [], []
        for row in catalogue.rows:
            store = stores.get(row.store_code)
            if store is None:  # a new store: none of its products exists yet
                continue
            product_ids = [product["product_id"] for _, product in row.products]
            item_ids = [
                variant["item_id"]
                for _, product in row.products
                for _, variant in _variants(product)
            ]
            product_filters.append(Q(store=store, product_id__in=product_ids))
            variant_filters.append(
                Q(store=store, item_id__in=item_ids)
                | Q(store=store, product__product_id__in=product_ids)
            )
        if not product_filters:
            return catalogue
        codes = {store.pk: code for code, store in stores.items()}
        for product in Product.objects.filter(_any(product_filters)):
            catalogue.products[(codes[product.store_id], product.product_id)] = product
        variants = Variant.objects.filter(_any(variant_filters)).select_related("product")
        if lock:
            variants = variants.select_for_update(of=("self",))
        for variant in variants.order_by("pk"):
            catalogue.variants[(codes[variant.store_id], variant.item_id)] = variant
        return catalogue

    def check(self, problems: Problems) -> None:
        """An item already in a product that the document leaves alone cannot join another."""
        for row in self.rows:
            listed = {product["product_id"] for _, product in row.products}
            for where, product in row.products:
                for position, data in _variants(product):
                    variant = self.variants.get((row.store_code, data["item_id"]))
                    if variant is None:
                        continue
                    owner = variant.product.product_id
                    if owner != product["product_id"] and owner not in listed:
                        problems.add(
                            f"{where}.variants[{position}].item_id",
                            f'"{data["item_id"]}" already belongs to product "{owner}" of store'
                            f' "{row.store_code}" (an item belongs to one product only)',
                        )

    def write(self, stores: dict[str, Store]) -> None:
        now = timezone.now()
        self._write_products(stores, now)
        self._write_variants(stores, now)

    def _write_products(self, stores: dict[str, Store], now) -> None:
        created, updated = [], []
        for row in self.rows:
            for _, data in row.products:
                key = (row.store_code, data["product_id"])
                fields = {"title": data["title"], "image_url": data["image_url"]}
                product = self.products.get(key)
                if product is None:
                    product = Product(
                        store=stores[row.store_code], product_id=data["product_id"], **fields
                    )
                    created.append(product)
                    self.products[key] = product
                elif assign_changed(product, fields):
                    product.updated_at = now
                    updated.append(product)
                else:
                    self.products_tally.unchanged += 1
        Product.objects.bulk_create(created, batch_size=BATCH_SIZE)
        Product.objects.bulk_update(updated, ["title", "image_url", "updated_at"], BATCH_SIZE)
        self.products_tally.created += len(created)
        self.products_tally.updated += len(updated)

    def _write_variants(self, stores: dict[str, Store], now) -> None:
        created, updated, listed = [], [], set()
        for row in self.rows:
            for _, data in row.products:
                product = self.products[(row.store_code, data["product_id"])]
                for position, item in _variants(data):
                    key = (row.store_code, item["item_id"])
                    listed.add(key)
                    fields = {
                        "product_id": product.pk,
                        "options": [list(pair) for pair in item["options"]],
                        "position": position,
                        "price": item["price"],
                        "stock": item["stock"],
                        "image_url": item["image_url"],
                    }
                    variant = self.variants.get(key)
                    if variant is None:
                        created.append(
                            Variant(store=stores[row.store_code], item_id=item["item_id"], **fields)
                        )
                    elif assign_changed(variant, fields):
                        variant.updated_at = now
                        updated.append(variant)
                    else:
                        self.variants_tally.unchanged += 1
        # Variants of the listed products that the document no longer lists.
        dropped = [variant for key, variant in self.variants.items() if key not in listed]
        reserved = set(
            ExchangeReservation.objects.filter(variant__in=dropped).values_list(
                "variant_id", flat=True
            )
            if dropped
            else ()
        )
        removed = []
        for variant in dropped:
            if variant.pk not in reserved:
                removed.append(variant.pk)
                continue
            self.warnings.append(
                f'variant "{variant.item_id}" is not in the import but is kept, without'
                " stock, because exchanges refer to it"
            )
            if variant.stock:
                variant.stock = 0
                variant.updated_at = now
                updated.append(variant)
        for chunk in in_chunks(removed):
            Variant.objects.filter(pk__in=chunk).delete()
        Variant.objects.bulk_create(created, batch_size=BATCH_SIZE)
        Variant.objects.bulk_update(
            updated,
            ["product", "options", "position", "price", "stock", "image_url", "updated_at"],
            batch_size=BATCH_SIZE,
        )
        self.variants_tally.created += len(created)
        self.variants_tally.updated += len(updated)
        self.variants_tally.deleted += len(removed)


def _any(filters: list[Q]) -> Q:
    combined = filters[0]
    for more in filters[1:]:
        combined |= more
    return combined


class ProductValidationError(Exception):
    """The product is refused and nothing was changed; `errors` lists every problem."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


def product_import(*, store: Store, product_id: str, data) -> tuple[Product, bool]:
    """Upsert one product object of the import format for `store` (the PUT endpoint).

    `product_id` comes from the URL; the body may repeat it but must agree. Raises
    `ProductValidationError` (nothing written). Returns the product with its variants
    and whether it was created.
    """
    problems = Problems()
    if isinstance(data, dict):
        if data.get("product_id") not in (None, product_id):
            problems.add(
                "product.product_id",
                f'"{data["product_id"]}" does not match "{product_id}" in the URL',
            )
        data = {**data, "product_id": product_id}
    product = read_product(data, "product", problems)
    row = StoreProducts(store_code=store.code, products=[("product", product)] if product else [])
    with transaction.atomic():
        catalogue = CatalogueImport.load([row], stores={store.code: store}, lock=not problems)
        catalogue.check(problems)
        if problems:
            raise ProductValidationError(problems.messages)
        catalogue.write({store.code: store})
    saved = Product.objects.prefetch_related(
        Prefetch("variants", Variant.objects.order_by("position", "pk"))
    ).get(store=store, product_id=product_id)
    return saved, catalogue.products_tally.created == 1


def product_document(product: Product) -> dict:
    """A product back in the import format (the PUT endpoint's answer)."""
    return {
        "product_id": product.product_id,
        "title": product.title,
        "image_url": product.image_url or None,
        "variants": [
            {
                "item_id": variant.item_id,
                "options": variant.options_dict,
                "price": str(variant.price),
                "stock": variant.stock,
                "image_url": variant.image_url or None,
            }
            for variant in product.variants.all()
        ],
    }

"""Reads of the catalogue: the exchange options of an order's lines.

A constant number of queries whatever the size of the catalogue or of the order: one
for the variants (with their products), plus one for the order's lines when they were
not prefetched. The order page reads its variants once (`order_page_variants`), with a
statement compiled once per process, for both its items and their exchange options.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils.translation import get_language, to_locale

from payments.money import format_money
from rma.models import Order, OrderLine
from rma.policy import PolicyError, StorePolicy
from rma.prepared import Prepared

from .models import ExchangeReservation, Variant
from .rules import amount_paid_per_unit


@dataclass(frozen=True)
class ExchangeOption:
    """One variant the line could be exchanged for, and whether it can be picked."""

    item_id: str
    product_id: str
    title: str
    options: dict[str, str]
    options_label: str
    price: Decimal
    stock: int
    image_url: str
    # Another variant of the line's own product (else another product, when allowed).
    same_product: bool
    in_stock: bool
    # The price is not higher than what the shopper paid per unit.
    within_paid: bool

    @property
    def available(self) -> bool:
        """Offered for one unit: in stock and not dearer (the service checks the quantity)."""
        return self.in_stock and self.within_paid


@dataclass(frozen=True)
class LineExchangeOptions:
    """The exchange choices of one order line."""

    line_id: int
    line_number: int
    item_id: str
    # The line's product in the catalogue; empty when the catalogue does not have the item.
    product_id: str
    # The line's picture: its own, else its variant's, else its product's.
    image_url: str
    paid_per_unit: Decimal
    options: tuple[ExchangeOption, ...]

    @property
    def available_options(self) -> tuple[ExchangeOption, ...]:
        return tuple(option for option in self.options if option.available)


def allow_other_products(store) -> bool:
    """The store's policy `exchange.allow_other_products`; false when unreadable."""
    try:
        return StorePolicy.of(store).exchange.allow_other_products
    except (PolicyError, AttributeError):
        return False


def _in_catalogue_order(variants: QuerySet[Variant]) -> QuerySet[Variant]:
    return variants.select_related("product").order_by("product__product_id", "position", "pk")


def catalogue_variants(*, store_id: int, item_ids, every_product: bool) -> QuerySet[Variant]:
    """The variants of the products of `item_ids` in one store, or all the store's variants
    (`every_product`), with their products, in catalogue order."""
    variants = Variant.objects.filter(store_id=store_id)
    if not every_product:
        # The products that have a variant with one of these item ids: a subquery.
        products = Variant.objects.filter(store_id=store_id, item_id__in=list(item_ids))
        variants = variants.filter(Q(product__in=products.values("product_id")))
    return _in_catalogue_order(variants)


def _variants_of_order_items(*, store_id: int, order_id: int) -> QuerySet[Variant]:
    lines = OrderLine.objects.filter(order_id=order_id)
    return Variant.objects.filter(store_id=store_id, item_id__in=lines.values("item_id"))


# The order page's three shapes of `catalogue_variants`, with the order's item ids read
# by a subquery (a prepared statement has no IN list); the store is named twice in the
# second, as a prepared statement takes each value in one place.
_ORDER_ITEMS = Prepared(
    lambda store_id, order_id: _variants_of_order_items(
        store_id=store_id, order_id=order_id
    ).select_related("product"),
    store_id=int,
    order_id=int,
)
_ORDER_PRODUCTS = Prepared(
    lambda store_id, order_id, items_store_id: _in_catalogue_order(
        Variant.objects.filter(
            store_id=store_id,
            product__in=_variants_of_order_items(store_id=items_store_id, order_id=order_id).values(
                "product_id"
            ),
        )
    ),
    store_id=int,
    order_id=int,
    items_store_id=int,
)
_STORE_CATALOGUE = Prepared(
    lambda store_id: _in_catalogue_order(Variant.objects.filter(store_id=store_id)),
    store_id=int,
)


def order_page_variants(*, order: Order, policy: StorePolicy) -> list[Variant]:
    """The catalogue variants the order page shows, with their products, in one query:
    those of the order's items, and when the store offers EXCHANGE, what
    `exchange_options_for_order` reads for every line (pass them as its `variants`)."""
    store_id, order_id = order.store_id, order.pk
    if "EXCHANGE" not in policy.resolutions:
        return _ORDER_ITEMS.run(store_id=store_id, order_id=order_id)
    if allow_other_products(order.store):
        return _STORE_CATALOGUE.run(store_id=store_id)
    return _ORDER_PRODUCTS.run(store_id=store_id, order_id=order_id, items_store_id=store_id)


def exchange_options_for_order(
    *, order: Order, lines: list[OrderLine] | None = None, variants: list[Variant] | None = None
) -> dict[int, LineExchangeOptions]:
    """Per order line id, the other variants of the line's product, in stock or not, with
    their price and whether it is within what was paid per unit.

    When the store's policy allows other products, every variant of the store's other
    products that is in stock and within the price is offered too. `lines`: the lines to
    show (default: all the order's lines, prefetched or read in one query). `order.store`
    is read (one query unless already loaded with the order). `variants`: the order's
    `order_page_variants`, already read (no query).
    """
    store = order.store
    if lines is None:
        lines = list(order.lines.all())
    every_product = allow_other_products(store)
    if variants is None:
        variants = list(
            catalogue_variants(
                store_id=store.pk,
                item_ids={line.item_id for line in lines},
                every_product=every_product,
            )
        )
    by_item = {variant.item_id: variant for variant in variants}
    result = {}
    for line in lines:
        paid = amount_paid_per_unit(line, currency=store.currency)
        ordered = by_item.get(line.item_id)
        ordered_product = ordered.product_id if ordered else None
        options = []
        for variant in variants:
            if variant.item_id == line.item_id:
                continue
            same_product = variant.product_id == ordered_product
            option = _option(variant, same_product=same_product, paid=paid)
            if same_product or (every_product and option.available):
                options.append(option)
        # The line's own product first, then the others.
        options.sort(key=lambda option: not option.same_product)
        result[line.pk] = LineExchangeOptions(
            line_id=line.pk,
            line_number=line.line_number,
            item_id=line.item_id,
            product_id=ordered.product.product_id if ordered else "",
            image_url=line.image_url or (ordered.picture_url if ordered else ""),
            paid_per_unit=paid,
            options=tuple(options),
        )
    return result


def _option(variant: Variant, *, same_product: bool, paid: Decimal) -> ExchangeOption:
    return ExchangeOption(
        item_id=variant.item_id,
        product_id=variant.product.product_id,
        title=variant.product.title,
        options=variant.options_dict,
        options_label=variant.options_label,
        price=variant.price,
        stock=variant.stock,
        image_url=variant.picture_url,
        same_product=same_product,
        in_stock=variant.stock > 0,
        within_paid=variant.price <= paid,
    )


def exchanges_of_rma_lines(rma_line_ids) -> dict[int, ExchangeReservation]:
    """The exchange of each RMA line that has one, by RMA line id, with its variant and
    product: one query whatever the number of lines."""
    return {
        reservation.rma_line_id: reservation
        for reservation in ExchangeReservation.objects.filter(
            rma_line_id__in=list(rma_line_ids)
        ).select_related("variant__product")
    }


def exchange_label(reservation: ExchangeReservation) -> str:
    """The replacement in words, e.g. "Organic tee (Size: L, Colour: Blue)"."""
    variant = reservation.variant
    label = variant.options_label
    return f"{variant.product.title} ({label})" if label else variant.product.title


def attach_exchanges(rma_lines) -> list:
    """Set `exchange` (the reservation or None) and `exchange_text` on each RMA line, for
    pages and emails; one query. Returns the lines."""
    rma_lines = list(rma_lines)
    found = exchanges_of_rma_lines(line.pk for line in rma_lines) if rma_lines else {}
    for line in rma_lines:
        line.exchange = found.get(line.pk)
        line.exchange_text = exchange_label(line.exchange) if line.exchange else ""
    return rma_lines


def exchange_choice_label(option: ExchangeOption, *, currency: str = "") -> str:
    """An exchange option for an agent's list, e.g.
    "TEE-1-L: Organic tee (Size: L, Colour: Blue), $25.00, 3 in stock" (the price in the
    active language; without a currency, as a plain number)."""
    described = f"{option.title} ({option.options_label})" if option.options_label else option.title
    price = (
        format_money(option.price, currency, to_locale(get_language() or "en"))
        if currency
        else str(option.price)
    )
    return f"{option.item_id}: {described}, {price}, {option.stock} in stock"


def exchange_choices_for_agents(line_options: LineExchangeOptions | None, *, currency: str):
    """(item id, label) of the variants an agent may choose for a line: those available,
    in catalogue order."""
    if line_options is None:
        return []
    return [
        (option.item_id, exchange_choice_label(option, currency=currency))
        for option in line_options.available_options
    ]


def exchange_options_of_eligible_lines(*, order: Order, verdicts, policy, variants=None) -> dict:
    """Per line number of each eligible line (`rma.eligibility` verdicts) that has variants
    to offer, its `LineExchangeOptions`; empty when the store does not offer EXCHANGE.
    For the portal's picker and the agents' screens: one query, whatever the catalogue
    (none with the order's `variants`, see `exchange_options_for_order`)."""
    if "EXCHANGE" not in policy.resolutions:
        return {}
    lines = [verdict.line for verdict in verdicts if verdict.eligible]
    # Variants read and none found (a store without a catalogue): no line has a choice.
    if not lines or (variants is not None and not variants):
        return {}
    by_line = exchange_options_for_order(order=order, lines=lines, variants=variants)
    return {line.line_number: by_line[line.pk] for line in lines if by_line[line.pk].options}


def variant_price(*, order_line: OrderLine, item_id: str) -> Decimal | None:
    """The price of the variant `item_id` in the store of the line's order; None when the
    catalogue does not have it. One query."""
    return (
        Variant.objects.filter(
            item_id=item_id,
            store_id=Order.objects.filter(pk=order_line.order_id).values("store_id")[:1],
        )
        .values_list("price", flat=True)
        .first()
    )


def exchange_of(rma_line) -> ExchangeReservation | None:
    """The RMA line's exchange reservation, or None; no query when it was loaded with the
    line (`select_related("exchange_reservation")`, or written in this request)."""
    try:
        return rma_line.exchange_reservation
    except ExchangeReservation.DoesNotExist:
        return None

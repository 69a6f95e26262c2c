"""Products, their variants with price and stock, and the stock an exchange reserves.

Fields and constraints only; the rules are in `rules.py`, the writes in `services.py`
and `importing.py`.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rma.models import RmaLine, RmaStatus, Store


class Product(models.Model):
    """One product of a store's catalogue; an order line belongs to the product that has
    a variant with the line's `item_id`."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="products")
    product_id = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    # An http(s) URL, or a path on this site such as /static/catalogue/demo/tee.svg.
    image_url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["store", "product_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "product_id"], name="product_unique_id_per_store"
            ),
        ]

    def __str__(self):
        return f"{self.product_id} {self.title}"


class Variant(models.Model):
    """A sellable variant (one SKU) of a product.

    `store` repeats the product's store so that the database itself holds `item_id`
    unique per store (the natural key order lines refer to). `options` keeps the option
    names in the store's order as a list of `[name, value]` pairs: PostgreSQL's jsonb
    would re-order the keys of an object.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    item_id = models.CharField(max_length=64)
    options = models.JSONField(default=list, blank=True)
    # Position in the product's `variants` list, for a stable display order.
    position = models.PositiveIntegerField(default=0)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    # Units available for exchanges; reserving an exchange takes them, releasing gives back.
    stock = models.IntegerField(default=0)
    # Empty: the product's picture is shown. A URL or a path, as the product's.
    image_url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "position", "id"]
        constraints = [
            # Also the index that finds an order line's variant by (store, item_id).
            models.UniqueConstraint(
                fields=["store", "item_id"], name="variant_unique_item_per_store"
            ),
            models.CheckConstraint(condition=Q(stock__gte=0), name="variant_stock_not_negative"),
            models.CheckConstraint(condition=Q(price__gte=0), name="variant_price_not_negative"),
        ]

    def __str__(self):
        return self.item_id

    @property
    def options_dict(self) -> dict[str, str]:
        """The options as an ordered dict, e.g. {"Size": "M", "Colour": "Blue"}."""
        return {name: value for name, value in self.options}

    @property
    def options_label(self) -> str:
        """The options in words, e.g. "Size: M, Colour: Blue"."""
        return ", ".join(f"{name}: {value}" for name, value in self.options)

    @property
    def picture_url(self) -> str:
        """The variant's own picture, else its product's (needs `product` loaded)."""
        return self.image_url or self.product.image_url


class ReleaseReason(models.TextChoices):
    """Why reserved stock went back: the RMA ended without the exchange."""

    CANCELLED = RmaStatus.CANCELLED.value, _("Cancelled")
    REJECTED = RmaStatus.REJECTED.value, _("Rejected")
    EXPIRED = RmaStatus.EXPIRED.value, _("Expired")


class ExchangeReservation(models.Model):
    """The exchange variant an RMA line asks for, and the stock set aside for it.

    Active while neither `released_at` (the stock went back: the RMA was cancelled,
    rejected or expired) nor `replacement_released_at` (the replacement order was
    released to the shopper: the units are gone for good) is set.
    """

    rma_line = models.OneToOneField(
        RmaLine, on_delete=models.CASCADE, related_name="exchange_reservation"
    )
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    # The variant's price per unit when reserved.
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    # What goes back to the shopper because the variant is cheaper than what they paid for
    # the units returned (never negative: a dearer variant is refused).
    price_difference = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_reason = models.CharField(max_length=16, choices=ReleaseReason.choices, blank=True)
    replacement_released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="reservation_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(price_difference__gte=0), name="reservation_difference_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True, released_reason="")
                | Q(released_at__isnull=False, released_reason__in=ReleaseReason.values),
                name="reservation_release_has_reason",
            ),
            # Stock cannot go back once the replacement left the warehouse.
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | Q(replacement_released_at__isnull=True),
                name="reservation_released_once",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.variant_id} for RMA line {self.rma_line_id}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None and self.replacement_released_at is None

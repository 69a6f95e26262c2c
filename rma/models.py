"""The returns domain: stores, orders, RMAs and their audit trail.

Fields, choices and database constraints only; business rules live in
`eligibility.py`, `transitions.py` and `services/`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _


class Store(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3)
    timezone = models.CharField(max_length=64, default="UTC")
    support_email = models.EmailField(blank=True)
    return_address = models.JSONField(default=dict)
    # The raw policy document of the import format; read it through `rma.policy.StorePolicy`.
    policy = models.JSONField(default=dict, blank=True)
    brand_colour = models.CharField(max_length=7, blank=True)
    logo_url = models.URLField(blank=True)
    # The language the store's shoppers see first (a code of settings.LANGUAGES); empty: the
    # browser's preference.
    language = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.name}"


class Supplier(models.Model):
    """A dropship supplier: returns of its lines go to the supplier, not the store."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="suppliers")
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    return_address = models.JSONField(default=dict)

    class Meta:
        ordering = ["store", "code"]
        constraints = [
            models.UniqueConstraint(fields=["store", "code"], name="supplier_unique_code_per_store")
        ]

    def __str__(self):
        return f"{self.code} — {self.name}"


class OrderStatus(models.TextChoices):
    PLACED = "PLACED", _("Placed")
    PROCESSING = "PROCESSING", _("Processing")
    SHIPPED = "SHIPPED", _("Shipped")
    DELIVERED = "DELIVERED", _("Delivered")
    CANCELLED = "CANCELLED", _("Cancelled")
    CLOSED = "CLOSED", _("Closed")


class Order(models.Model):
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="orders")
    order_id = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=OrderStatus.choices)
    placed_at = models.DateTimeField()
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    customer_email = models.EmailField()
    customer_name = models.CharField(max_length=200, blank=True)
    shipping_address = models.JSONField(default=dict)
    # The store's labels for the customer (e.g. "vip"), for store rules.
    customer_tags = models.JSONField(default=list, blank=True)
    # How the order was paid, for refunds through the payment provider (e.g. "stripe").
    payment_provider = models.CharField(max_length=32, blank=True)
    payment_intent = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(fields=["store", "order_id"], name="order_unique_id_per_store")
        ]
        indexes = [
            # The portal looks orders up by number across stores, ignoring case.
            models.Index(Upper("order_id"), name="order_order_id_upper_idx"),
            models.Index(Upper("customer_email"), name="order_email_upper_idx"),
        ]

    def __str__(self):
        return f"{self.store.code} {self.order_id}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    item_id = models.CharField(max_length=64)
    title = models.CharField(max_length=300, blank=True)
    department = models.CharField(max_length=100, blank=True)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    # Totals for the whole line, in the store currency.
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    weight = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    length = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    width = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    height = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    hazmat = models.BooleanField(default=False)
    final_sale = models.BooleanField(default=False)
    delivered_at = models.DateTimeField(null=True, blank=True)
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, null=True, blank=True, related_name="order_lines"
    )
    image_url = models.URLField(blank=True)

    class Meta:
        ordering = ["order", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "line_number"], name="orderline_unique_number_per_order"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="orderline_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="orderline_unit_price_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["item_id"], name="orderline_item_idx")]

    def __str__(self):
        return f"{self.order_id}#{self.line_number} {self.item_id}"


class RmaStatus(models.TextChoices):
    REQUESTED = "REQUESTED", _("Requested")
    AUTHORIZED = "AUTHORIZED", _("Authorized")
    RECEIVED = "RECEIVED", _("Received")
    RESOLVED = "RESOLVED", _("Resolved")
    REJECTED = "REJECTED", _("Rejected")
    CANCELLED = "CANCELLED", _("Cancelled")
    EXPIRED = "EXPIRED", _("Expired")


class Resolution(models.TextChoices):
    REFUND = "REFUND", _("Refund")
    EXCHANGE = "EXCHANGE", _("Exchange")
    STORE_CREDIT = "STORE_CREDIT", _("Store credit")
    REPAIR = "REPAIR", _("Repair")
    REPLACEMENT = "REPLACEMENT", _("Replacement")


class LabelStatus(models.TextChoices):
    NOT_REQUIRED = "NOT_REQUIRED", _("Not required")
    PENDING = "PENDING", _("Pending")
    ISSUED = "ISSUED", _("Issued")
    FAILED = "FAILED", _("Failed")
    VOIDED = "VOIDED", _("Voided")


class Channel(models.TextChoices):
    PORTAL = "PORTAL", _("Portal")
    API = "API", _("API")
    AGENT = "AGENT", _("Agent")


class Rma(models.Model):
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="rmas")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="rmas")
    rma_number = models.CharField(max_length=16, unique=True)
    status = models.CharField(max_length=16, choices=RmaStatus.choices)
    resolution = models.CharField(
        max_length=16, choices=Resolution.choices, default=Resolution.REFUND
    )
    # The return destination: a supplier for dropship lines, else the store's warehouse.
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, null=True, blank=True, related_name="rmas"
    )
    label_status = models.CharField(
        max_length=16, choices=LabelStatus.choices, default=LabelStatus.PENDING
    )
    label_carrier = models.CharField(max_length=64, blank=True)
    label_tracking_number = models.CharField(max_length=64, blank=True)
    label_file = models.FileField(upload_to="labels/%Y/%m/", blank=True)
    label_failure_reason = models.CharField(max_length=500, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # The RMAs created by one request (one per return destination) share this value.
    request_group = models.UUIDField(default=uuid.uuid4, db_index=True)
    transaction_id = models.CharField(max_length=100, blank=True)
    customer_comment = models.TextField(blank=True)
    status_reason = models.TextField(blank=True)
    # Radial request context, stored as the caller sent it (empty for other channels).
    order_type = models.CharField(max_length=64, blank=True)
    store_type = models.CharField(max_length=64, blank=True)
    source_name = models.CharField(max_length=64, blank=True)
    source_location_id = models.CharField(max_length=64, blank=True)
    return_type = models.CharField(max_length=64, blank=True)
    # The store rules' decisions that shaped this RMA at request time (fee, keep, route...),
    # each naming its rule, so later estimates and the resolution apply the same ones.
    rule_decisions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "RMA"
        verbose_name_plural = "RMAs"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("approve_rma", "Can approve or reject return requests"),
            ("cancel_rma", "Can cancel returns"),
            ("create_rma_for_customer", "Can create a return on a customer's behalf"),
            ("resend_notification", "Can resend emails to the shopper"),
            ("reissue_label", "Can re-issue return labels"),
            ("receive_rma", "Can receive returned parcels"),
            ("resolve_rma", "Can resolve received returns"),
            ("view_dashboard", "Can view the returns dashboard"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="rma_status_created_idx"),
            models.Index(fields=["label_status", "status"], name="rma_label_status_idx"),
            models.Index(fields=["store", "created_at"], name="rma_store_created_idx"),
            models.Index(fields=["status", "expires_at"], name="rma_status_expires_idx"),
            models.Index(fields=["-created_at", "-id"], name="rma_created_desc_idx"),
        ]

    def __str__(self):
        return self.rma_number


class Condition(models.TextChoices):
    # Received at a counter and not inspected yet (Radial returnItemsReceived).
    UNINSPECTED = "UNINSPECTED", _("Not inspected yet")
    AS_NEW = "AS_NEW", _("As new")
    OPENED = "OPENED", _("Opened")
    DAMAGED = "DAMAGED", _("Damaged")
    DEFECTIVE = "DEFECTIVE", _("Defective")
    WRONG_ITEM = "WRONG_ITEM", _("Wrong item")


class Disposition(models.TextChoices):
    RESTOCK = "RESTOCK", _("Restock")
    REFURBISH = "REFURBISH", _("Refurbish")
    DISPOSE = "DISPOSE", _("Dispose")
    RETURN_TO_VENDOR = "RETURN_TO_VENDOR", _("Return to vendor")


class RmaLine(models.Model):
    rma = models.ForeignKey(Rma, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="rma_lines")
    quantity = models.PositiveIntegerField()
    reason_code = models.CharField(max_length=64)
    # The caller's category and description of a reason code the store has not configured.
    reason_category = models.CharField(max_length=100, blank=True)
    reason_description = models.CharField(max_length=300, blank=True)
    customer_comment = models.TextField(blank=True)
    received_quantity = models.PositiveIntegerField(null=True, blank=True)
    condition = models.CharField(max_length=16, choices=Condition.choices, blank=True)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True)
    # What arrived, per group of units alike: [{"quantity", "condition", "disposition"}, ...]
    # summing to received_quantity; condition/disposition above summarise it (the worst).
    receipt_units = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    restocking_fee = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    store_credit_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    store_credit_code = models.CharField(max_length=64, blank=True)
    replacement_item_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["rma", "order_line__line_number"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="rmaline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(received_quantity__isnull=True)
                | Q(received_quantity__lte=F("quantity")),
                name="rmaline_received_not_above_requested",
            ),
            models.UniqueConstraint(
                fields=["rma", "order_line"], name="rmaline_unique_order_line_per_rma"
            ),
        ]

    def __str__(self):
        return f"{self.rma_id}: {self.quantity} x line {self.order_line_id}"

    def receipt_in_words(self) -> list[tuple[int, str, str]]:
        """What arrived per group of units alike: (quantity, condition, disposition) in words.

        A line received before groups were kept is one group of its own condition.
        """
        groups = self.receipt_units or (
            [
                {
                    "quantity": self.received_quantity,
                    "condition": self.condition,
                    "disposition": self.disposition,
                }
            ]
            if self.received_quantity and self.condition
            else []
        )
        conditions, dispositions = dict(Condition.choices), dict(Disposition.choices)
        return [
            (
                group["quantity"],
                conditions.get(group["condition"], group["condition"]),
                dispositions.get(group["disposition"], group["disposition"]),
            )
            for group in groups
        ]


class RmaPhoto(models.Model):
    """A shopper's photo for a reason that requires one; stored privately."""

    rma_line = models.ForeignKey(RmaLine, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="photos/%Y/%m/")
    content_type = models.CharField(max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.image.name


class ActorType(models.TextChoices):
    SHOPPER = "SHOPPER", _("Shopper")
    AGENT = "AGENT", _("Agent")
    SYSTEM = "SYSTEM", _("System")
    API = "API", _("API client")


class RmaEvent(models.Model):
    """The audit trail of an RMA and the shopper's timeline."""

    rma = models.ForeignKey(Rma, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40)
    actor_type = models.CharField(max_length=8, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    actor_label = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "RMA event"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["rma", "created_at"], name="rmaevent_rma_created_idx")]

    def __str__(self):
        return f"{self.rma_id} {self.type}"


class EligibilityOverride(models.Model):
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="overrides")
    code = models.CharField(max_length=16)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    justification = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("override_ineligibility", "Can override the return window (RMA 1006)"),
            ("override_any_ineligibility", "Can override every overridable ineligibility"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(justification=""), name="override_justification_required"
            ),
        ]

    def __str__(self):
        return f"{self.code} on line {self.order_line_id}"


class ApiKey(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    # The first characters of the key, stored in clear to find the row; the rest only hashed.
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["store", "name"]

    def __str__(self):
        return f"{self.store.code}: {self.name} ({self.prefix}…)"


class ApiTransaction(models.Model):
    """The first response to a generateRMA `transactionId`, replayed for repeats."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="api_transactions")
    transaction_id = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "transaction_id"], name="apitransaction_unique_id_per_store"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="apitransaction_created_idx")]

    def __str__(self):
        return f"{self.store_id}: {self.transaction_id}"


class NotificationStatus(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    SENT = "SENT", _("Sent")
    FAILED = "FAILED", _("Failed")


class Notification(models.Model):
    """One email about one event to one recipient: the outbox that makes sending exactly-once."""

    rma = models.ForeignKey(
        Rma, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    # An email about an order before any return exists (a line made returnable by an
    # override); set only when `rma` is not.
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    # Every RMA the email covers (one request split by destination gets one confirmation).
    rma_ids = models.JSONField(default=list)
    kind = models.CharField(max_length=40)
    recipient = models.EmailField()
    # The language the shopper used when the email was queued (empty: the site default).
    language = models.CharField(max_length=10, blank=True)
    # Unique per intended email, e.g. "confirmation" or "confirmation:resend:2".
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    subject = models.CharField(max_length=300, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="notification_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rma__isnull=False) | Q(order__isnull=False),
                name="notification_about_rma_or_order",
            )
        ]

    def __str__(self):
        return f"{self.kind} to {self.recipient}"


class WebhookEndpoint(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField()
    secret = models.CharField(max_length=128)
    # Empty means every event type.
    events = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.store.code} → {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    DELIVERED = "DELIVERED", _("Delivered")
    FAILED = "FAILED", _("Failed")


class WebhookDelivery(models.Model):
    """The webhook outbox: written in the transaction of the change it reports."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    rma = models.ForeignKey(
        Rma, on_delete=models.SET_NULL, null=True, blank=True, related_name="webhook_deliveries"
    )
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["created_at", "id"]
        permissions = [("replay_webhookdelivery", "Can replay webhook deliveries")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx"),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint_id}"


class StaffStoreAccess(models.Model):
    """A store a staff user may work on; a user with rows sees only those stores.

    Without any row, a user sees every store only as a superuser or with the
    `view_all_stores` permission, else none (`rma/admin/scoping.py`).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_access"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="staff_access")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "staff store access"
        verbose_name_plural = "staff store access"
        permissions = [("view_all_stores", "Can see every store's data")]
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], name="staff_store_access_unique")
        ]

    def __str__(self):
        return f"{self.user_id} → {self.store_id}"

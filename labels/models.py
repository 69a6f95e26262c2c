"""Every label issued for an RMA; the RMA's label_* fields mirror the current one."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rma.models import LabelStatus, Rma


class RefundStatus(models.TextChoices):
    """A voided carrier label's refund: asked for after commit, by the labels.refund task."""

    PENDING = "PENDING", _("Refund pending")
    SUBMITTED = "SUBMITTED", _("Refund submitted")
    REFUNDED = "REFUNDED", _("Refunded")
    REJECTED = "REJECTED", _("Refund rejected")


class TrackingStatus(models.TextChoices):
    IN_TRANSIT = "IN_TRANSIT", _("In transit")
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY", _("Out for delivery")
    DELIVERED = "DELIVERED", _("Delivered")
    RETURN_TO_SENDER = "RETURN_TO_SENDER", _("Returned to sender")
    FAILURE = "FAILURE", _("Delivery failed")


class ReturnLabel(models.Model):
    rma = models.ForeignKey(Rma, on_delete=models.CASCADE, related_name="labels")
    status = models.CharField(
        max_length=16, choices=LabelStatus.choices, default=LabelStatus.PENDING
    )
    service = models.CharField(max_length=20)
    carrier = models.CharField(max_length=64, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    # What a carrier (easypost, shippo) sold: its service level, price and references.
    service_level = models.CharField(max_length=100, blank=True)
    rate = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    rate_currency = models.CharField(max_length=3, blank=True)
    # The carrier's shipment id, saved before buying so a retry never buys twice.
    shipment_id = models.CharField(max_length=100, blank=True)
    # The carrier's id of the bought label (Shippo's transaction), used to refund it.
    carrier_label_id = models.CharField(max_length=100, blank=True)
    file = models.FileField(upload_to="labels/%Y/%m/", blank=True)
    # A QR code to show at the carrier's counter instead of a printed label (Shippo).
    qr_code = models.FileField(upload_to="labels/qr/%Y/%m/", blank=True)
    refund_status = models.CharField(max_length=16, choices=RefundStatus.choices, blank=True)
    refund_error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    failure_reason = models.CharField(max_length=500, blank=True)
    # While set and in the future, one worker is calling the label service for this
    # label; others leave it alone (labels.services.label_issue).
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rma", "created_at", "id"]
        constraints = [
            # At most one label in progress or valid per RMA: re-issue voids the old one first.
            models.UniqueConstraint(
                fields=["rma"],
                condition=Q(status__in=["PENDING", "ISSUED"]),
                name="returnlabel_one_current_per_rma",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="returnlabel_status_idx")]

    def __str__(self):
        return f"{self.rma.rma_number} {self.status}"


class TrackingEvent(models.Model):
    """One carrier tracking update of an RMA's label, from a tracking webhook."""

    rma = models.ForeignKey(Rma, on_delete=models.CASCADE, related_name="tracking_events")
    label = models.ForeignKey(ReturnLabel, on_delete=models.CASCADE, related_name="tracking_events")
    # Which webhook told us: easypost or shippo.
    source = models.CharField(max_length=20)
    # The carrier's identity of this update; a replayed webhook finds it and is refused.
    source_event_id = models.CharField(max_length=200)
    tracking_number = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=TrackingStatus.choices)
    description = models.CharField(max_length=500, blank=True)
    location = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rma", "occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_event_id"], name="trackingevent_unique_source_event"
            )
        ]
        indexes = [
            models.Index(fields=["status", "occurred_at"], name="trackingevent_status_idx"),
        ]

    def __str__(self):
        return f"{self.tracking_number} {self.status}"

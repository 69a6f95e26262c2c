"""Every label issued for an RMA; the RMA's label_* fields mirror the current one."""

from django.db import models
from django.db.models import Q

from rma.models import LabelStatus, Rma


class ReturnLabel(models.Model):
    rma = models.ForeignKey(Rma, on_delete=models.CASCADE, related_name="labels")
    status = models.CharField(
        max_length=16, choices=LabelStatus.choices, default=LabelStatus.PENDING
    )
    service = models.CharField(max_length=20)
    carrier = models.CharField(max_length=64, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    file = models.FileField(upload_to="labels/%Y/%m/", blank=True)
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

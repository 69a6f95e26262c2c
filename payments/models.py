"""Money that leaves the store: refunds through a payment provider, and store credit.

Amounts are kept with four decimal places so that every currency's minor unit fits
(JPY 0, USD 2, KWD 3, CLF 4); they are always rounded to the currency's own unit
(`payments.money`) before they are stored or shown.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from rma.models import Rma, Store

AMOUNT = {"max_digits": 18, "decimal_places": 4}


class RefundStatus(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    SUCCEEDED = "SUCCEEDED", _("Succeeded")
    FAILED = "FAILED", _("Failed")


class Refund(models.Model):
    """The refund of one resolved RMA through the payment provider (one per RMA).

    Written in the resolve transaction (an outbox row), executed by the
    `payments.execute_refund` task; a FAILED refund waits in the agents' queue.
    """

    rma = models.OneToOneField(Rma, on_delete=models.PROTECT, related_name="refund")
    service = models.CharField(max_length=20)
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    payment_intent = models.CharField(max_length=255, blank=True)
    # Sent with every attempt: the provider creates one refund whatever the retries.
    idempotency_key = models.CharField(max_length=100, unique=True)
    status = models.CharField(
        max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    provider_refund_id = models.CharField(max_length=255, blank=True)
    provider_status = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # While set and in the future, one worker is calling the provider for this refund.
    claimed_until = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "updated_at"], name="refund_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")
        ]

    def __str__(self):
        return f"{self.rma.rma_number} {self.amount} {self.currency} {self.status}"


class StoreCredit(models.Model):
    """A store credit code: issued with an amount, spent down to zero, until it expires."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="store_credits")
    code = models.CharField(max_length=64, unique=True)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**AMOUNT)
    balance = models.DecimalField(**AMOUNT)
    expires_at = models.DateTimeField()
    rma = models.ForeignKey(
        Rma, on_delete=models.PROTECT, null=True, blank=True, related_name="store_credits"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The last line of defence against overspending: the database refuses it.
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="storecredit_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(balance__lte=F("amount")), name="storecredit_balance_not_above_amount"
            ),
        ]

    def __str__(self):
        return self.code


class CreditEntryKind(models.TextChoices):
    ISSUE = "ISSUE", _("Issued")
    REDEEM = "REDEEM", _("Redeemed")


class StoreCreditEntry(models.Model):
    """One movement of a store credit's balance: the ledger (amounts signed)."""

    credit = models.ForeignKey(StoreCredit, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=8, choices=CreditEntryKind.choices)
    amount = models.DecimalField(**AMOUNT)
    balance_after = models.DecimalField(**AMOUNT)
    # The storefront's reference of a redemption (its order, its cart): one entry each.
    reference = models.CharField(max_length=100, blank=True)
    rma = models.ForeignKey(Rma, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["credit", "created_at", "id"]
        verbose_name_plural = "store credit entries"
        constraints = [
            models.UniqueConstraint(
                fields=["credit", "reference"],
                condition=~Q(reference=""),
                name="storecreditentry_unique_reference",
            )
        ]

    def __str__(self):
        return f"{self.credit.code} {self.kind} {self.amount}"

"""Versions of a store's policy: every change, who made it, when, what changed (docs/console.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PolicySource(models.TextChoices):
    IMPORT = "IMPORT", "JSON import"
    EDITOR = "EDITOR", "Policy editor"
    ROLLBACK = "ROLLBACK", "Rollback"


class PolicyVersion(models.Model):
    """One published state of a store's policy document and brand, numbered per store."""

    store = models.ForeignKey("rma.Store", on_delete=models.CASCADE, related_name="policy_versions")
    number = models.PositiveIntegerField()
    # The whole policy document as published (the import format's `policy` object).
    policy = models.JSONField(default=dict, blank=True)
    # The store's brand at that moment: brand_colour, logo_url, support_email.
    brand = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=16, choices=PolicySource.choices)
    # What changed from the version before: [{"path", "before", "after"}, ...].
    diff = models.JSONField(default=list, blank=True)
    # The version a rollback went back to.
    restored_from = models.PositiveIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["store", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "number"], name="policyversion_unique_number_per_store"
            )
        ]
        permissions = [
            ("edit_store_policy", "Can edit, publish and roll back store policies"),
            ("simulate_store_policy", "Can run the policy simulator"),
        ]

    def __str__(self):
        return f"{self.store_id} v{self.number}"

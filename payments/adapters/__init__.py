"""Refund services, chosen by `settings.REFUND_SERVICE`: `none` (default) or `stripe`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import (
    IssuedRefund,
    PermanentRefundError,
    RefundRequest,
    RefundService,
    RefundServiceError,
    TransientRefundError,
)

__all__ = [
    "IssuedRefund",
    "PermanentRefundError",
    "RefundRequest",
    "RefundService",
    "RefundServiceError",
    "TransientRefundError",
    "get_refund_service",
]


def get_refund_service() -> RefundService:
    name = settings.REFUND_SERVICE
    if name == "none":
        from .none import NoRefundService

        return NoRefundService()
    if name == "stripe":
        from .stripe import StripeRefundService

        return StripeRefundService()
    raise ImproperlyConfigured(f"Unknown REFUND_SERVICE {name!r}: use none or stripe")

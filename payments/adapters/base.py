"""The refund service interface: what an adapter is given, what it returns, how it fails."""

from __future__ import annotations

import abc
from dataclasses import dataclass


class RefundServiceError(Exception):
    """A refund could not be made."""


class TransientRefundError(RefundServiceError):
    """Worth retrying later: connection errors, timeouts, rate limits, 5xx."""


class PermanentRefundError(RefundServiceError):
    """Retrying will not help: refused by the provider (4xx), misconfiguration."""


@dataclass(frozen=True)
class RefundRequest:
    """Everything a provider needs, as plain data. `amount_minor`: in minor units."""

    rma_number: str
    store_code: str
    order_id: str
    payment_intent: str
    amount_minor: int
    currency: str
    idempotency_key: str


@dataclass(frozen=True)
class IssuedRefund:
    provider_refund_id: str
    # The provider's own status word (Stripe: pending, succeeded, requires_action ...).
    provider_status: str


class RefundService(abc.ABC):
    """One way of giving money back, chosen by `settings.REFUND_SERVICE`."""

    name: str = ""
    # False when refunds are left to the store (told by the `rma.resolved` webhook).
    executes_refunds: bool = True
    # The payment provider of the orders this service can refund (Order.payment_provider).
    provider: str = ""

    @abc.abstractmethod
    def refund(self, request: RefundRequest) -> IssuedRefund:
        """Make one refund, or raise `TransientRefundError` / `PermanentRefundError`."""

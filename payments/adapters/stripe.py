"""`REFUND_SERVICE=stripe`: refunds created with Stripe's official library.

One call, `POST /v1/refunds` for the order's PaymentIntent, amount in minor units, with
an idempotency key derived from the RMA so that a retried or duplicated attempt never
refunds twice. `STRIPE_API_BASE` points the library at another address (tests run a
local server that answers as Stripe's API does).
"""

from __future__ import annotations

import stripe
from django.conf import settings

from returns_portal import outbound

from .base import (
    IssuedRefund,
    PermanentRefundError,
    RefundRequest,
    RefundService,
    TransientRefundError,
)

# Refund statuses after which the money is on its way (or already back).
ACCEPTED_STATUSES = frozenset({"pending", "succeeded", "requires_action"})


class StripeRefundService(RefundService):
    name = "stripe"
    provider = "stripe"

    def _client(self) -> stripe.StripeClient:
        # Checked per call, not at construction: a missing key fails the refund (an
        # agent sees it in the failed queue) instead of the resolve that records it.
        if not settings.STRIPE_API_KEY:
            raise PermanentRefundError("STRIPE_API_KEY is not set")
        return stripe.StripeClient(
            settings.STRIPE_API_KEY,
            base_addresses={"api": settings.STRIPE_API_BASE},
            # Celery retries with backoff; the library's own retries would hide errors.
            max_network_retries=0,
            # Through the outbound guard: STRIPE_API_BASE cannot reach our own network.
            http_client=stripe.RequestsClient(
                timeout=(settings.STRIPE_TIMEOUT, settings.STRIPE_TIMEOUT),
                session=outbound.session(),
            ),
        )

    def refund(self, request: RefundRequest) -> IssuedRefund:
        try:
            refund = self._client().v1.refunds.create(
                params={
                    "payment_intent": request.payment_intent,
                    "amount": request.amount_minor,
                    "reason": "requested_by_customer",
                    "metadata": {
                        "rma_number": request.rma_number,
                        "store": request.store_code,
                        "order_id": request.order_id,
                    },
                },
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.APIConnectionError as error:
            if isinstance(error.__context__, outbound.AddressNotAllowed):
                raise PermanentRefundError(outbound.NOT_ALLOWED_MESSAGE) from None
            raise TransientRefundError(
                f"Stripe unavailable: {error.user_message or error}"
            ) from error
        except stripe.RateLimitError as error:
            raise TransientRefundError(
                f"Stripe unavailable: {error.user_message or error}"
            ) from error
        except stripe.StripeError as error:
            message = f"Stripe refused the refund: {error.user_message or error}"
            if error.http_status is None or error.http_status >= 500:
                raise TransientRefundError(message) from error
            if error.http_status == 409:
                # A concurrent request with the same idempotency key is in progress.
                raise TransientRefundError(message) from error
            raise PermanentRefundError(message) from error
        status = getattr(refund, "status", "") or ""
        if status not in ACCEPTED_STATUSES:
            reason = getattr(refund, "failure_reason", "") or status or "no status"
            raise PermanentRefundError(f"Stripe refund {refund.id} did not go through: {reason}")
        return IssuedRefund(provider_refund_id=refund.id, provider_status=status)

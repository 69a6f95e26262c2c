"""`REFUND_SERVICE=none`: the store refunds in its own systems, told by the webhook."""

from __future__ import annotations

from .base import IssuedRefund, PermanentRefundError, RefundRequest, RefundService


class NoRefundService(RefundService):
    name = "none"
    executes_refunds = False

    def refund(self, request: RefundRequest) -> IssuedRefund:
        raise PermanentRefundError("REFUND_SERVICE is none: refunds are made by the store")

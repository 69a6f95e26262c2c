"""Eligibility overrides (docs/eligibility.md): an agent lifts one failing rule from one order line.

The `EligibilityOverride` row is the record of the decision: who, when, which code, why,
until when. It is never edited or deleted through the product (an override with a past
`expires_at` simply stops applying), so the rows are the audit trail. An override has no
RMA yet, so it is not an `RmaEvent`; see docs/decisions.md.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from rma.eligibility import RULES, can_override, evaluate_order
from rma.errors import RequestError
from rma.models import EligibilityOverride, Order, OrderLine
from rma.selectors import orders_for_eligibility

logger = logging.getLogger(__name__)


class OverrideNotAllowed(PermissionDenied):
    """The agent may not override this code (1007 and 1008: nobody may)."""

    def __init__(self, message: str, *, code: str):
        self.message = message
        self.code = code
        super().__init__(message)


def overridable_codes(*, user, verdict) -> list[str]:
    """The failing codes of one line's verdict that `user` may override, in code order."""
    return [rule.code for rule in verdict.failures if can_override(user, rule.code)]


@transaction.atomic
def eligibility_override(
    *,
    order_line: OrderLine,
    code: str,
    agent,
    justification: str,
    expires_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> EligibilityOverride:
    """Record that `agent` lifts `code` from `order_line`, with a written justification.

    Raises `OverrideNotAllowed` when the agent's permissions do not cover the code (or
    nobody's do), and `RequestError` for a blank justification, an expiry in the past, or
    a code that does not currently fail on the line (an already overridden failure may be
    overridden again, e.g. to extend it).
    """
    now = now or timezone.now()
    rule = RULES.get(code)
    if rule is None:
        raise RequestError(f"{code!r} is not an eligibility code.", field="code")
    if rule.overridable_by is None:
        raise OverrideNotAllowed(f"{code} ({rule.description}) can never be overridden.", code=code)
    if not can_override(agent, code):
        raise OverrideNotAllowed(
            f"You are not allowed to override {code} ({rule.description}).", code=code
        )
    justification = (justification or "").strip()
    if not justification:
        raise RequestError("A justification is required to override.", field="justification")
    if expires_at is not None and expires_at <= now:
        raise RequestError("The expiry must be in the future.", field="expires_at")

    # Lock the order so the check and the write see the same lines as a concurrent request.
    Order.objects.select_for_update().filter(pk=order_line.order_id).values_list("pk").get()
    order = orders_for_eligibility().get(pk=order_line.order_id)
    verdict = next(v for v in evaluate_order(order, now=now) if v.line.pk == order_line.pk)
    failing = {rule.code for rule in verdict.failures} | {rule.code for rule in verdict.overridden}
    if code not in failing:
        raise RequestError(
            f"{code} does not apply to line {order_line.line_number}; nothing to override.",
            field="code",
        )
    override = EligibilityOverride.objects.create(
        order_line=order_line,
        code=code,
        agent=agent,
        justification=justification,
        expires_at=expires_at,
    )
    logger.info(
        "Eligibility override %s: %s on order %s line %s by %s (expires %s)",
        override.pk,
        code,
        order.order_id,
        order_line.line_number,
        agent.get_username(),
        expires_at.isoformat() if expires_at else "never",
    )
    return override

"""The estimate the order page shows before the shopper submits, from what the form holds.

It is computed by the same code as the request (`rma.estimates.request_groups`, which
the request service uses to create the RMAs), so the page shows what the request will
record: the return fee once per RMA, the lines the shopper may keep in their own RMA.
Without JavaScript the shopper asks for it with "Update estimate" (the page comes back
with the estimate); with JavaScript `static/portal/portal.js` posts the form to
`portal:estimate` on every change and puts the returned fragment in place.
"""

from __future__ import annotations

from django.utils import timezone

from payments.estimate import Estimate
from rma.eligibility import rule_decisions
from rma.estimates import estimate_view, request_groups, units_returned
from rma.models import Channel
from rma.policy import StorePolicy
from rma.services.rma_request import RequestedLine

from .forms import QUANTITY

# The submit button that asks for the estimate rather than the return.
ESTIMATE_ACTION = "estimate"


def posted_lines(data, verdicts) -> list[RequestedLine]:
    """The eligible lines the form selects with a quantity the line allows (others have
    nothing to estimate: the request would refuse them)."""
    lines = []
    for verdict in verdicts:
        if not verdict.eligible:
            continue
        name = f"line-{verdict.line_number}-"
        if str(data.get(f"{name}selected") or "").lower() in ("", "false", "0", "off"):
            continue
        quantity = str(data.get(f"{name}quantity") or "").strip()
        if not QUANTITY.fullmatch(quantity):
            continue
        if not 0 < int(quantity) <= verdict.returnable_quantity:
            continue
        lines.append(
            RequestedLine(
                line_number=verdict.line_number,
                quantity=int(quantity),
                reason_code=str(data.get(f"{name}reason") or ""),
                # Priced only for an exchange (a cheaper variant refunds the difference).
                exchange_item_id=str(data.get(f"{name}exchange") or "")[:64],
            )
        )
    return lines


def chosen_resolution(data, policy: StorePolicy) -> str:
    chosen = str((data or {}).get("resolution") or "")
    if chosen in policy.resolutions:
        return chosen
    return policy.resolutions[0] if policy.resolutions else ""


def order_estimate(*, order, verdicts, data=None) -> dict:
    """The estimate view (`rma.estimates.estimate_view`) of what `data` (the posted form, or
    None for a fresh page) would request, with `rma_count`: the RMAs it would become."""
    policy = StorePolicy.of(order.store)
    currency = order.store.currency
    lines = posted_lines(data, verdicts) if data is not None else []
    verdict_of = {verdict.line_number: verdict for verdict in verdicts}
    groups = (
        request_groups(
            lines=lines,
            order_lines={number: verdict.line for number, verdict in verdict_of.items()},
            resolution=chosen_resolution(data, policy),
            policy=policy,
            currency=currency,
            already=units_returned(verdict_of[line.line_number].line.pk for line in lines),
            # The store rules as the request will decide them: with the reasons chosen.
            decisions=rule_decisions(
                order,
                [verdict.line for verdict in verdicts],
                policy=policy,
                now=timezone.now(),
                channel=Channel.PORTAL,
                reasons={line.line_number: line.reason_code for line in lines},
            ),
            store=order.store,
        )
        if lines
        else []
    )
    summed = Estimate.combine([group.estimate for group in groups], currency=currency)
    titles = {
        number: verdict.line.title or verdict.line.item_id for number, verdict in verdict_of.items()
    }
    return {**estimate_view(summed, titles=titles), "rma_count": len(groups)}

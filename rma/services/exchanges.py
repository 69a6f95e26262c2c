"""Exchanges in the RMA's life: checked and reserved on request, stock given back when the
return ends without it, the replacement released on receipt (or at once).

The rules and the stock are the catalogue app's (`catalogue.services`); this module is
where the request service and the status transitions call them, so every channel
(portal, API, agents, tasks) goes through the same steps.
"""

from __future__ import annotations

from collections.abc import Sequence

from catalogue.services import (
    ExchangeQuote,
    exchange_check,
    exchange_release,
    exchange_release_replacement,
    exchange_reserve,
    replacement_may_be_released,
)
from rma import followups
from rma.errors import RmaError
from rma.estimates import units_returned
from rma.models import Rma, RmaLine, RmaStatus
from rma.policy import StorePolicy

from .actors import Actor

# The statuses that end a return without its exchange: the stock goes back.
RELEASING_STATUSES = frozenset({RmaStatus.CANCELLED, RmaStatus.REJECTED, RmaStatus.EXPIRED})
EXCHANGE_RELEASED_EMAIL = "exchange_released"


def exchange_quotes(
    *, lines: Sequence, verdicts: dict
) -> tuple[dict[int, ExchangeQuote], list[RmaError]]:
    """Check every requested line that names an exchange item (`exchange_item_id`).

    Returns the quotes by line number, and the RMA 1023 refusals (each with its line in
    `items` and the rule that failed in `detail`), so the caller reports them with the
    lines' other failures. One query per exchanged line; nothing is written.
    """
    quotes: dict[int, ExchangeQuote] = {}
    refusals: list[RmaError] = []
    exchanged = [requested for requested in lines if requested.exchange_item_id]
    if not exchanged:
        return quotes, refusals
    # Units returned before, as the estimate and the resolution count them (which unit
    # carries the line's rounding remainder).
    already = units_returned(verdicts[each.line_number].line.pk for each in exchanged)
    for requested in exchanged:
        verdict = verdicts[requested.line_number]
        try:
            quotes[requested.line_number] = exchange_check(
                order_line=verdict.line,
                item_id=requested.exchange_item_id,
                quantity=requested.quantity,
                already_returned=already.get(verdict.line.pk, 0),
            )
        except RmaError as refusal:
            refusals.append(refusal)
    return quotes, refusals


def exchange_reserve_lines(*, rma_lines: Sequence[RmaLine], quotes: dict[int, ExchangeQuote]):
    """Reserve the stock of the checked exchanges of `rma_lines` (in the request's
    transaction, after the lines exist). Raises RMA 1023 when the stock went meanwhile:
    the caller's transaction then undoes the whole request."""
    reservations = []
    # In the order of the variants' keys, as every writer of stock locks them.
    exchanged = sorted(
        (line for line in rma_lines if line.order_line.line_number in quotes),
        key=lambda line: (quotes[line.order_line.line_number].variant.pk, line.pk),
    )
    # The lines without an exchange: known to have none, so reading it costs no query.
    no_exchange = RmaLine._meta.get_field("exchange_reservation")
    for rma_line in rma_lines:
        if rma_line.order_line.line_number not in quotes:
            no_exchange.set_cached_value(rma_line, None)
    already = units_returned(line.order_line_id for line in exchanged) if exchanged else {}
    for rma_line in exchanged:
        quote = quotes[rma_line.order_line.line_number]
        reservations.append(
            exchange_reserve(
                rma_line=rma_line,
                variant=quote.variant,
                quantity=rma_line.quantity,
                already_returned=already.get(rma_line.order_line_id, 0),
            )
        )
    return reservations


def exchange_status_changed(*, rma: Rma, to_status: str, actor: Actor) -> None:
    """What an RMA's new status means for its exchanges (call it in the move's transaction).

    Cancelled, rejected or expired: the reserved stock goes back (once). Received, or
    authorized when the store's policy `exchange.instant` is true: the replacement is
    released (event and webhook `rma.exchange_released`) and the shopper is emailed,
    exactly once. Other moves change nothing.
    """
    if to_status in RELEASING_STATUSES:
        exchange_release(rma=rma, reason=to_status)
        return
    if to_status not in (RmaStatus.AUTHORIZED, RmaStatus.RECEIVED):
        return
    instant = StorePolicy.of(rma.store).exchange.instant
    if not replacement_may_be_released(status=to_status, instant=instant):
        return
    if rma.status != to_status:
        return
    if exchange_release_replacement(rma=rma, actor=actor):
        followups.notification_queue(
            kind=EXCHANGE_RELEASED_EMAIL,
            rmas=[rma],
            key=f"{EXCHANGE_RELEASED_EMAIL}:rma:{rma.pk}",
        )

"""Resolving a received return: per line outcome and amounts (docs/eligibility.md).

Amounts come from what the shopper paid (unit price, less the line's discount, plus its
tax, per unit with the rounding remainder on the last unit) through the same pure
function as the estimate shown before the return was requested
(`payments.estimate.estimate_return`, with `received=True`: the restocking fee applies,
nothing is "kept"). Store credit is issued into the ledger (`payments.models.StoreCredit`);
with `REFUND_SERVICE=stripe` the refund is recorded here and executed by a task after
commit, otherwise the `rma.resolved` webhook tells the store. Every amount is in the
`rma.resolved` event (and so the webhook payload).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalogue.selectors import exchanges_of_rma_lines
from payments import money
from payments.estimate import Estimate, EstimateLine, LineEstimate, estimate_return
from payments.services import PaymentError, refund_request, store_credit_issue
from rma.errors import RequestError, TransitionError
from rma.estimates import stored_decisions
from rma.models import Resolution, Rma, RmaLine, RmaStatus
from rma.policy import StorePolicy
from rma.transitions import EVENT_FOR_STATUS

from .actors import Actor
from .events import record_event
from .rma_receive import rma_lines_given_once, rma_lock_for_move
from .rma_status import rma_transition

MONEY_OUTCOMES = frozenset({Resolution.REFUND, Resolution.STORE_CREDIT})
STORE_CREDIT_CODE_MAX_LENGTH = RmaLine._meta.get_field("store_credit_code").max_length
ITEM_ID_MAX_LENGTH = RmaLine._meta.get_field("replacement_item_id").max_length
AMOUNT_FIELDS = [
    "outcome",
    "refund_amount",
    "restocking_fee",
    "store_credit_amount",
    "store_credit_code",
    "replacement_item_id",
]


@dataclass(frozen=True)
class LineResolution:
    """The agent's decision for one line.

    `store_credit_code` and `store_credit_amount` apply to STORE_CREDIT (a code is
    generated and the amount computed like a refund, plus the store's bonus, when left
    out); `replacement_item_id` is required for EXCHANGE, and `exchange_unit_price` (the
    replacement's price) refunds the difference when it is cheaper than what was paid.
    """

    rma_line_id: int
    outcome: str
    store_credit_code: str = ""
    replacement_item_id: str = ""
    store_credit_amount: Decimal | None = None
    exchange_unit_price: Decimal | None = None


@dataclass(frozen=True)
class RefundBreakdown:
    """Value paid for the received goods, the restocking fee kept, and what goes back
    (before the RMA's return fee, which is charged once per RMA)."""

    gross: Decimal
    restocking_fee: Decimal
    net: Decimal


def _seller_fault(line: RmaLine, policy: StorePolicy) -> bool:
    # A reason code the policy no longer knows is treated as not the seller's fault.
    reason = policy.reason(line.reason_code)
    return bool(reason and reason.seller_fault)


def _estimate_line(
    line: RmaLine,
    *,
    policy: StorePolicy,
    currency: str,
    resolution: str,
    already_returned: int = 0,
    exchange_unit_price: Decimal | None = None,
) -> EstimateLine:
    received = line.received_quantity or 0
    order_line = line.order_line
    # Never count more earlier units than leave room for this receipt.
    already_returned = max(0, min(already_returned, order_line.quantity - received))
    return EstimateLine.for_order_line(
        order_line,
        key=line.pk,
        currency=currency,
        quantity=received,
        already_returned=already_returned,
        resolution=resolution,
        seller_fault=_seller_fault(line, policy),
        exchange_unit_price=exchange_unit_price,
    )


def line_refund_breakdown(
    line: RmaLine, policy: StorePolicy, *, currency: str = "", already_returned: int = 0
) -> RefundBreakdown:
    """The refund of one received RMA line under its store's policy (the warehouse preview).

    `already_returned`: units of the order line refunded by earlier RMAs (they decide
    which unit carries the rounding remainder).
    """
    currency = currency or line.rma.store.currency
    estimate = estimate_return(
        [
            _estimate_line(
                line,
                policy=policy,
                currency=currency,
                resolution=Resolution.REFUND,
                already_returned=already_returned,
            )
        ],
        policy=StorePolicy({**policy.document, "return_fee": {}}),
        currency=currency,
        received=True,
    )
    itemised = estimate.lines[0]
    return RefundBreakdown(
        gross=itemised.amount,
        restocking_fee=itemised.restocking_fee,
        net=itemised.amount - itemised.restocking_fee,
    )


def units_already_returned(*, rma: Rma, order_line_ids: Sequence[int]) -> dict[int, int]:
    """Per order line, the units received by the order's other RESOLVED RMAs (one query)."""
    rows = (
        RmaLine.objects.filter(order_line_id__in=order_line_ids, rma__status=RmaStatus.RESOLVED)
        .exclude(rma=rma)
        .values("order_line_id")
        .annotate(units=Sum("received_quantity"))
    )
    return {row["order_line_id"]: row["units"] or 0 for row in rows}


def _check_decision(line: RmaLine, decision: LineResolution, currency: str) -> None:
    """Refuse what cannot be recorded before anything is computed or written."""
    prefix = f"line-{line.pk}"
    if decision.outcome not in Resolution.values:
        raise RequestError(
            _("Unknown outcome “%(value)s”.") % {"value": decision.outcome},
            field=f"{prefix}-outcome",
        )
    if decision.outcome == Resolution.STORE_CREDIT:
        code = (decision.store_credit_code or "").strip()
        if len(code) > STORE_CREDIT_CODE_MAX_LENGTH:
            raise RequestError(
                _("The store credit code can have at most %(count)s characters.")
                % {"count": STORE_CREDIT_CODE_MAX_LENGTH},
                field=f"{prefix}-store_credit_code",
            )
    if decision.outcome in (Resolution.EXCHANGE, Resolution.REPLACEMENT):
        item_id = (decision.replacement_item_id or "").strip()
        if decision.outcome == Resolution.EXCHANGE and not item_id:
            raise RequestError(
                _("An exchange needs the replacement item id."),
                field=f"{prefix}-replacement_item_id",
            )
        if len(item_id) > ITEM_ID_MAX_LENGTH:
            raise RequestError(
                _("The item id can have at most %(count)s characters.")
                % {"count": ITEM_ID_MAX_LENGTH},
                field=f"{prefix}-replacement_item_id",
            )
    if decision.outcome == Resolution.EXCHANGE and decision.exchange_unit_price is not None:
        try:
            price = money.parse_amount(decision.exchange_unit_price, currency)
        except money.MoneyError:
            price = None
        if price is None or price < 0:
            raise RequestError(
                _("The replacement's price must be an amount in the store currency."),
                field=f"{prefix}-exchange_unit_price",
            )


def _with_reserved_prices(lines: Sequence[LineResolution]) -> list[LineResolution]:
    """Exchanges given without `exchange_unit_price` for the variant the shopper reserved
    take the reservation's price (one query when there is such a line), so the difference
    refunded is the one estimated whichever way into the service."""
    wanting = [
        decision.rma_line_id
        for decision in lines
        if decision.outcome == Resolution.EXCHANGE and decision.exchange_unit_price is None
    ]
    reserved = exchanges_of_rma_lines(wanting) if wanting else {}
    priced = []
    for decision in lines:
        reservation = reserved.get(decision.rma_line_id)
        item_id = (decision.replacement_item_id or "").strip()
        if reservation is not None and reservation.variant.item_id == item_id:
            decision = replace(decision, exchange_unit_price=reservation.unit_price)
        priced.append(decision)
    return priced


def _agent_credit_amount(given, itemised: LineEstimate, field: str, currency: str) -> Decimal:
    """An amount the agent set: 0 … the value received plus the store's bonus."""
    try:
        amount = money.parse_amount(given, currency)
    except money.MoneyError:
        raise RequestError(
            _("The store credit amount must be a number in the currency's smallest unit."),
            field=field,
        ) from None
    ceiling = itemised.amount + itemised.bonus
    if not Decimal(0) <= amount <= ceiling:
        raise RequestError(
            _(
                "The store credit amount must be between 0 and %(value)s "
                "(the value of the items received)."
            )
            % {"value": money.as_string(ceiling, currency)},
            field=field,
        )
    return amount


def _apply(line: RmaLine, decision: LineResolution, itemised: LineEstimate, currency: str) -> None:
    """Set the outcome fields of one line (in memory) from its itemised amounts."""
    prefix = f"line-{line.pk}"
    line.outcome = decision.outcome
    line.refund_amount = line.restocking_fee = line.store_credit_amount = None
    line.store_credit_code = line.replacement_item_id = ""
    if decision.outcome == Resolution.REFUND:
        line.refund_amount = itemised.total
        line.restocking_fee = itemised.restocking_fee
    elif decision.outcome == Resolution.STORE_CREDIT:
        given = decision.store_credit_amount
        if given is None or given == "":
            line.store_credit_amount = itemised.total
            line.restocking_fee = itemised.restocking_fee
        else:
            # The agent's amount is final: no bonus added, no fee taken from it.
            line.store_credit_amount = _agent_credit_amount(
                given, itemised, f"{prefix}-store_credit_amount", currency
            )
        line.store_credit_code = (decision.store_credit_code or "").strip()
    elif decision.outcome in (Resolution.EXCHANGE, Resolution.REPLACEMENT):
        item_id = (decision.replacement_item_id or "").strip()
        # A replacement is the same item unless the agent names another.
        line.replacement_item_id = item_id or (
            line.order_line.item_id if decision.outcome == Resolution.REPLACEMENT else ""
        )
        if decision.outcome == Resolution.EXCHANGE and itemised.total > 0:
            # A cheaper replacement: the difference goes back like a refund.
            line.refund_amount = itemised.total


def _issue_store_credits(rma: Rma, lines: list[RmaLine], now: dt.datetime) -> None:
    """One ledger credit per code: lines without a code share one generated code."""
    by_code: dict[str, list[RmaLine]] = defaultdict(list)
    for line in lines:
        if line.outcome == Resolution.STORE_CREDIT:
            by_code[line.store_credit_code].append(line)
    for code, group in by_code.items():
        total = sum((line.store_credit_amount or Decimal(0) for line in group), Decimal(0))
        try:
            credit = store_credit_issue(store=rma.store, amount=total, rma=rma, code=code, now=now)
        except PaymentError as error:
            raise RequestError(
                error.message, field=f"line-{group[0].pk}-store_credit_code"
            ) from None
        for line in group:
            line.store_credit_code = credit.code


def _money(value: Decimal | None, currency: str) -> str | None:
    return None if value is None else money.as_string(value, currency)


def _line_data(line: RmaLine, itemised: LineEstimate, currency: str) -> dict:
    return {
        "line_number": line.order_line.line_number,
        "item_id": line.order_line.item_id,
        "quantity": line.quantity,
        "received_quantity": line.received_quantity,
        "outcome": line.outcome,
        "amount_paid": _money(itemised.amount_paid, currency),
        "refund_amount": _money(line.refund_amount, currency),
        "restocking_fee": _money(line.restocking_fee, currency),
        "return_fee": _money(itemised.return_fee, currency),
        "store_credit_amount": _money(line.store_credit_amount, currency),
        "store_credit_bonus": _money(itemised.bonus, currency)
        if line.outcome == Resolution.STORE_CREDIT
        else None,
        "store_credit_code": line.store_credit_code,
        "replacement_item_id": line.replacement_item_id,
    }


@transaction.atomic
def rma_resolve(
    *,
    rma: Rma,
    actor: Actor,
    lines: Sequence[LineResolution],
    now: dt.datetime | None = None,
) -> Rma:
    """Record the outcome of every line of a RECEIVED RMA and move it to RESOLVED.

    Outcomes (any `Resolution`: the agent may settle on something other than what the
    shopper asked for, e.g. a repair of a defective item):

    - REFUND: the amount paid for the units received, less the restocking fee when the
      line's reason is not the seller's fault, less its share of the RMA's return fee;
    - STORE_CREDIT: the same plus the store's bonus percent, unless the agent gives an
      amount (0 … value plus bonus); issued into the store credit ledger under the agent's
      code or a generated one (one code shared by the RMA's lines);
    - EXCHANGE: needs the replacement item id; a cheaper replacement refunds the difference;
    - REPLACEMENT (the same item unless another is named) and REPAIR: no amounts.

    Every line must be given exactly once. Refusals raise `RequestError` or
    `TransitionError` and write nothing. With `REFUND_SERVICE=stripe` the refund total is
    recorded and executed after commit (`payments.services.refund_request`).
    """
    now = now or timezone.now()
    locked = rma_lock_for_move(rma=rma, to_status=RmaStatus.RESOLVED)
    by_id = rma_lines_given_once(rma=locked, line_ids=[line.rma_line_id for line in lines])
    policy = StorePolicy.of(locked.store)
    currency = locked.store.currency
    for decision in lines:
        _check_decision(by_id[decision.rma_line_id], decision, currency)
    lines = _with_reserved_prices(lines)

    already = units_already_returned(
        rma=locked, order_line_ids=[line.order_line_id for line in by_id.values()]
    )
    estimate: Estimate = estimate_return(
        [
            _estimate_line(
                by_id[decision.rma_line_id],
                policy=policy,
                currency=currency,
                resolution=decision.outcome,
                already_returned=already.get(by_id[decision.rma_line_id].order_line_id, 0),
                exchange_unit_price=decision.exchange_unit_price,
            )
            for decision in lines
        ],
        policy=policy,
        currency=currency,
        received=True,
        # A store rule's return fee, as the request applied it (`Rma.rule_decisions`).
        return_fee=stored_decisions(locked.rule_decisions).return_fee,
    )
    data, refund_total = _record_outcomes(
        locked, by_id=by_id, decisions=lines, estimate=estimate, currency=currency, now=now
    )
    resolved_rma = rma_transition(
        rma=rma, to_status=RmaStatus.RESOLVED, actor=actor, now=now, data=data
    )
    refund_request(rma=resolved_rma, amount=refund_total)
    return resolved_rma


def _record_outcomes(
    rma: Rma,
    *,
    by_id: dict[int, RmaLine],
    decisions: Sequence[LineResolution],
    estimate: Estimate,
    currency: str,
    now: dt.datetime,
) -> tuple[dict, Decimal]:
    """Write every line's outcome and amounts, issue the store credit; the `rma.resolved`
    event's data and the refund total come back."""
    for decision in decisions:
        line = by_id[decision.rma_line_id]
        _apply(line, decision, estimate.line(line.pk), currency)

    resolved = sorted(by_id.values(), key=lambda line: line.order_line.line_number)
    _issue_store_credits(rma, resolved, now)
    RmaLine.objects.bulk_update(resolved, [*AMOUNT_FIELDS, "received_quantity"])
    zero = money.zero(currency)
    refund_total = sum((line.refund_amount or zero for line in resolved), zero)
    credit_total = sum((line.store_credit_amount or zero for line in resolved), zero)
    data = {
        "currency": currency,
        "refund_total": money.as_string(refund_total, currency),
        "store_credit_total": money.as_string(credit_total, currency),
        "return_fee": money.as_string(estimate.return_fee, currency),
        "lines": [_line_data(line, estimate.line(line.pk), currency) for line in resolved],
    }
    return data, refund_total


def rma_resolve_kept(
    *,
    rma: Rma,
    actor: Actor,
    estimate: Estimate,
    endpoints=None,
    now: dt.datetime | None = None,
) -> Rma:
    """Resolve, as it is created, an RMA whose every line the shopper keeps.

    Called by the request service inside its transaction, for a new AUTHORIZED RMA (no
    label) whose lines all qualify to be kept (`estimate.all_kept`, the request's estimate
    keyed by RMA line id). Each line gets the RMA's resolution with the estimate's amounts
    (no restocking fee: nothing comes back), exactly as `rma_resolve` records them: the
    store credit goes into the ledger and, with `REFUND_SERVICE=stripe`, the refund row is
    written and executed after commit. The units count as returned (`received_quantity` =
    quantity, so they are neither returnable again nor refunded twice), the RMA is never
    received (`received_at` stays empty), and the `rma.resolved` event says `"kept": true`.
    """
    now = now or timezone.now()
    if rma.status != RmaStatus.AUTHORIZED or not estimate.all_kept:
        raise TransitionError(
            rma_number=rma.rma_number, from_status=rma.status, to_status=RmaStatus.RESOLVED
        )
    currency = rma.store.currency
    by_id = {line.pk: line for line in rma.lines.all()}
    for line in by_id.values():
        line.received_quantity = line.quantity
    decisions = [LineResolution(rma_line_id=pk, outcome=rma.resolution) for pk in by_id]
    data, refund_total = _record_outcomes(
        rma, by_id=by_id, decisions=decisions, estimate=estimate, currency=currency, now=now
    )
    rma.status = RmaStatus.RESOLVED
    rma.resolved_at = now
    rma.save(update_fields=["status", "resolved_at", "updated_at"])
    record_event(
        rma=rma,
        type=EVENT_FOR_STATUS[RmaStatus.RESOLVED],
        actor=actor,
        data={"from": RmaStatus.AUTHORIZED, "to": RmaStatus.RESOLVED, "kept": True, **data},
        endpoints=endpoints,
    )
    refund_request(rma=rma, amount=refund_total)
    return rma

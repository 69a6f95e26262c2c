"""Resolving a received return: per line outcome and amounts (SPEC section 5).

Money moves in the store's own systems, driven by the `rma.resolved` webhook; this
service records the outcome and puts every amount into the event (and so the webhook).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from rma.errors import RequestError
from rma.models import Resolution, Rma, RmaLine, RmaStatus
from rma.numbers import ALPHABET
from rma.policy import StorePolicy

from .actors import Actor
from .rma_receive import rma_lines_given_once, rma_lock_for_move
from .rma_status import rma_transition

CENT = Decimal("0.01")
MONEY_OUTCOMES = frozenset({Resolution.REFUND, Resolution.STORE_CREDIT})
STORE_CREDIT_CODE_MAX_LENGTH = RmaLine._meta.get_field("store_credit_code").max_length
ITEM_ID_MAX_LENGTH = RmaLine._meta.get_field("replacement_item_id").max_length


@dataclass(frozen=True)
class LineResolution:
    """The agent's decision for one line.

    `store_credit_code` and `store_credit_amount` apply to STORE_CREDIT (a code is
    generated and the amount computed like a refund when left out);
    `replacement_item_id` is required for EXCHANGE.
    """

    rma_line_id: int
    outcome: str
    store_credit_code: str = ""
    replacement_item_id: str = ""
    store_credit_amount: Decimal | None = None


@dataclass(frozen=True)
class RefundBreakdown:
    """Value of the received goods, the restocking fee kept, and what goes back."""

    gross: Decimal
    restocking_fee: Decimal
    net: Decimal


def refund_breakdown(
    *, unit_price: Decimal, received_quantity: int, fee_percent: Decimal, seller_fault: bool
) -> RefundBreakdown:
    """Unit price times received quantity, less the restocking fee unless the seller is at fault.

    The fee is `fee_percent` % of the gross amount, rounded half up to the cent.
    """
    gross = (unit_price * received_quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    fee = Decimal("0.00")
    if not seller_fault:
        fee = (gross * fee_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return RefundBreakdown(gross=gross, restocking_fee=fee, net=gross - fee)


def line_refund_breakdown(line: RmaLine, policy: StorePolicy) -> RefundBreakdown:
    """The breakdown for one received RMA line under its store's policy.

    A reason code the policy no longer knows is treated as not the seller's fault.
    """
    reason = policy.reason(line.reason_code)
    return refund_breakdown(
        unit_price=line.order_line.unit_price,
        received_quantity=line.received_quantity or 0,
        fee_percent=policy.restocking_fee_percent,
        seller_fault=bool(reason and reason.seller_fault),
    )


def new_store_credit_code() -> str:
    """A readable, random store credit code such as `SC-7KQM-X2PA-RT4H`."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(12))
    return "SC-" + "-".join(body[i : i + 4] for i in range(0, 12, 4))


def _unused_store_credit_code() -> str:
    while True:
        code = new_store_credit_code()
        if not RmaLine.objects.filter(store_credit_code=code).exists():
            return code


def _credit_amount(given, breakdown: RefundBreakdown, field: str) -> tuple[Decimal, Decimal | None]:
    """The credit amount and the restocking fee kept (None when the agent set the amount)."""
    if given is None or given == "":
        return breakdown.net, breakdown.restocking_fee
    try:
        amount = Decimal(str(given))
    except InvalidOperation:
        raise RequestError(_("The store credit amount must be a number."), field=field) from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise RequestError(_("The store credit amount must be in whole cents."), field=field)
    if not Decimal(0) <= amount <= breakdown.gross:
        raise RequestError(
            _(
                "The store credit amount must be between 0 and %(value)s "
                "(the value of the items received)."
            )
            % {"value": breakdown.gross},
            field=field,
        )
    return amount.quantize(CENT), None


def _apply(
    line: RmaLine, decision: LineResolution, policy: StorePolicy, shared_code: list[str]
) -> None:
    """Set the outcome fields of one line (in memory) after checking the decision."""
    prefix = f"line-{line.pk}"
    if decision.outcome not in Resolution.values:
        raise RequestError(
            _("Unknown outcome “%(value)s”.") % {"value": decision.outcome},
            field=f"{prefix}-outcome",
        )
    breakdown = line_refund_breakdown(line, policy)
    line.outcome = decision.outcome
    line.refund_amount = line.restocking_fee = line.store_credit_amount = None
    line.store_credit_code = line.replacement_item_id = ""
    if decision.outcome == Resolution.REFUND:
        line.refund_amount = breakdown.net
        line.restocking_fee = breakdown.restocking_fee
    elif decision.outcome == Resolution.STORE_CREDIT:
        amount, fee = _credit_amount(
            decision.store_credit_amount, breakdown, f"{prefix}-store_credit_amount"
        )
        code = (decision.store_credit_code or "").strip()
        if len(code) > STORE_CREDIT_CODE_MAX_LENGTH:
            raise RequestError(
                _("The store credit code can have at most %(count)s characters.")
                % {"count": STORE_CREDIT_CODE_MAX_LENGTH},
                field=f"{prefix}-store_credit_code",
            )
        if not code:
            # One generated voucher per resolution: the shopper gets a single code.
            if not shared_code:
                shared_code.append(_unused_store_credit_code())
            code = shared_code[0]
        line.store_credit_amount = amount
        line.store_credit_code = code
        line.restocking_fee = fee
    elif decision.outcome in (Resolution.EXCHANGE, Resolution.REPLACEMENT):
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
        # A replacement is the same item unless the agent names another.
        line.replacement_item_id = item_id or (
            line.order_line.item_id if decision.outcome == Resolution.REPLACEMENT else ""
        )


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _line_data(line: RmaLine) -> dict:
    return {
        "line_number": line.order_line.line_number,
        "item_id": line.order_line.item_id,
        "quantity": line.quantity,
        "received_quantity": line.received_quantity,
        "outcome": line.outcome,
        "refund_amount": _money(line.refund_amount),
        "restocking_fee": _money(line.restocking_fee),
        "store_credit_amount": _money(line.store_credit_amount),
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

    - REFUND: unit price times received quantity, less the store's restocking fee when the
      line's reason is not the seller's fault;
    - STORE_CREDIT: the same amount unless the agent gives one (0 … the goods' value),
      with the agent's code or a generated one (one code shared by the RMA's lines);
    - EXCHANGE: needs the replacement item id;
    - REPLACEMENT (the same item unless another is named) and REPAIR: no amounts.

    Every line must be given exactly once. Refusals raise `RequestError` or
    `TransitionError` and write nothing. The `rma.resolved` event (and so the webhook
    payload) holds every line's outcome and the amounts as decimal strings.
    """
    locked = rma_lock_for_move(rma=rma, to_status=RmaStatus.RESOLVED)
    by_id = rma_lines_given_once(rma=locked, line_ids=[line.rma_line_id for line in lines])
    policy = StorePolicy.of(locked.store)
    shared_code: list[str] = []
    for decision in lines:
        _apply(by_id[decision.rma_line_id], decision, policy, shared_code)

    resolved = sorted(by_id.values(), key=lambda line: line.order_line.line_number)
    RmaLine.objects.bulk_update(
        resolved,
        [
            "outcome",
            "refund_amount",
            "restocking_fee",
            "store_credit_amount",
            "store_credit_code",
            "replacement_item_id",
        ],
    )
    refund_total = sum((line.refund_amount or 0 for line in resolved), Decimal("0.00"))
    credit_total = sum((line.store_credit_amount or 0 for line in resolved), Decimal("0.00"))
    return rma_transition(
        rma=rma,
        to_status=RmaStatus.RESOLVED,
        actor=actor,
        now=now,
        data={
            "currency": locked.store.currency,
            "refund_total": str(refund_total),
            "store_credit_total": str(credit_total),
            "lines": [_line_data(line) for line in resolved],
        },
    )

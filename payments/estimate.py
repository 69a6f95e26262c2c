"""What the shopper gets back for a return: one pure function, `estimate_return`.

Given the lines of one RMA (what was paid for the units returned, the reason's flags, the
resolution), the store's policy and the currency, it itemises the refund or store credit:
per line the amount, the keep-item flag, the restocking fee (after receipt only), the
line's share of the return fee and the store credit bonus; for the RMA the subtotal, the
fees, the bonus and the total. No queries: callers build `EstimateLine`s from rows they
have (`EstimateLine.for_order_line` does it for an `OrderLine`).

The same function serves the estimate shown before the shopper commits (`received=False`)
and the amounts recorded when an agent resolves the received return (`received=True`), so
the two can only differ by what receipt changes: the restocking fee, received quantities.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from rma.models import Resolution
from rma.policy import StorePolicy

from . import money

# Resolutions that pay money back: a refund, or store credit (with the bonus).
MONEY_RESOLUTIONS = frozenset({Resolution.REFUND, Resolution.STORE_CREDIT})


@dataclass(frozen=True)
class EstimateLine:
    """One line of a return as the estimate needs it.

    `unit_amounts`: what was paid for each unit returned (`money.amount_paid_for_units`),
    so the rounding remainder of the line's last unit is counted where it belongs.
    `exchange_unit_price`: for an EXCHANGE, the price of the replacement variant; a
    cheaper one refunds the difference.
    """

    key: object
    unit_amounts: tuple[Decimal, ...]
    resolution: str
    seller_fault: bool = False
    requires_review: bool = False
    exchange_unit_price: Decimal | None = None
    # A store rule keeps the line whatever its amount (`keep_item`, docs/console.md).
    keep_item: bool = False

    @property
    def quantity(self) -> int:
        return len(self.unit_amounts)

    @property
    def amount_paid(self) -> Decimal:
        return sum(self.unit_amounts, Decimal(0))

    @classmethod
    def for_order_line(
        cls,
        order_line,
        *,
        key: object,
        currency: str,
        quantity: int,
        already_returned: int = 0,
        resolution: str,
        seller_fault: bool = False,
        requires_review: bool = False,
        exchange_unit_price: Decimal | None = None,
        keep_item: bool = False,
    ) -> EstimateLine:
        """The line for `quantity` units of an `OrderLine` of which `already_returned` units
        were refunded before (fields read, no query)."""
        return cls(
            key=key,
            unit_amounts=tuple(
                money.order_line_amounts(
                    order_line, currency=currency, units=quantity, already_returned=already_returned
                )
            ),
            resolution=resolution,
            seller_fault=seller_fault,
            requires_review=requires_review,
            exchange_unit_price=exchange_unit_price,
            keep_item=keep_item,
        )


@dataclass(frozen=True)
class LineEstimate:
    """One line itemised. `amount` is what the line gives back before fees and bonus: the
    amount paid for a refund or store credit, the price difference for an exchange, nothing
    for a repair or replacement. `total` = amount - restocking_fee - return_fee + bonus."""

    key: object
    resolution: str
    quantity: int
    amount_paid: Decimal
    keep_item: bool
    amount: Decimal
    restocking_fee: Decimal
    return_fee: Decimal
    bonus: Decimal
    total: Decimal

    @property
    def is_store_credit(self) -> bool:
        return self.resolution == Resolution.STORE_CREDIT


@dataclass(frozen=True)
class Estimate:
    """An RMA's estimate (or the sum over several RMAs' estimates, see `combine`)."""

    currency: str
    lines: tuple[LineEstimate, ...]
    subtotal: Decimal
    restocking_fees: Decimal
    return_fee: Decimal
    bonus: Decimal
    total: Decimal

    @property
    def fees(self) -> Decimal:
        return self.restocking_fees + self.return_fee

    @property
    def refund_total(self) -> Decimal:
        """What goes back to the original payment (refunds and exchange differences)."""
        return sum((line.total for line in self.lines if not line.is_store_credit), self._zero)

    @property
    def store_credit_total(self) -> Decimal:
        return sum((line.total for line in self.lines if line.is_store_credit), self._zero)

    @property
    def all_kept(self) -> bool:
        """Nothing needs to be sent back (every line may be kept)."""
        return bool(self.lines) and all(line.keep_item for line in self.lines)

    @property
    def _zero(self) -> Decimal:
        return money.zero(self.currency)

    def line(self, key) -> LineEstimate:
        return next(line for line in self.lines if line.key == key)

    def to_api(self) -> dict[str, str]:
        """`{"currency", "subtotal", "fees", "bonus", "total"}`, amounts as strings with the
        currency's decimals ("19.35", "500", "1.500")."""
        return {
            "currency": self.currency,
            "subtotal": money.as_string(self.subtotal, self.currency),
            "fees": money.as_string(self.fees, self.currency),
            "bonus": money.as_string(self.bonus, self.currency),
            "total": money.as_string(self.total, self.currency),
        }

    @classmethod
    def combine(cls, estimates: Iterable[Estimate], *, currency: str) -> Estimate:
        """The estimates of several RMAs (one request) summed into one."""
        estimates = list(estimates)
        zero = money.zero(currency)
        if any(estimate.currency != currency for estimate in estimates):
            raise money.MoneyError("estimates in different currencies cannot be added up")
        return cls(
            currency=currency,
            lines=tuple(line for estimate in estimates for line in estimate.lines),
            subtotal=sum((e.subtotal for e in estimates), zero),
            restocking_fees=sum((e.restocking_fees for e in estimates), zero),
            return_fee=sum((e.return_fee for e in estimates), zero),
            bonus=sum((e.bonus for e in estimates), zero),
            total=sum((e.total for e in estimates), zero),
        )


def keeps_item(line: EstimateLine, *, threshold: Decimal | None, currency: str) -> bool:
    """Before receipt: paid less than the policy's `keep_item_below` per unit, or kept by a
    store rule (`line.keep_item`); either way no review needed.

    Only for a refund or store credit: an exchange, repair or replacement needs the item.
    """
    if line.requires_review or not line.quantity:
        return False
    if line.resolution not in MONEY_RESOLUTIONS:
        return False
    if line.keep_item:
        return True
    if threshold is None:
        return False
    return line.amount_paid / line.quantity < money.quantize(threshold, currency)


def _line_amount(line: EstimateLine, currency: str) -> Decimal:
    """What the line gives back before fees and bonus."""
    if line.resolution in MONEY_RESOLUTIONS:
        return line.amount_paid
    if line.resolution == Resolution.EXCHANGE and line.exchange_unit_price is not None:
        price = money.quantize(line.exchange_unit_price, currency)
        return max(line.amount_paid - price * line.quantity, money.zero(currency))
    return money.zero(currency)


def _fee_is_due(
    line: EstimateLine, policy: StorePolicy, keep_item: bool, rule_fee: Decimal | None
) -> bool:
    """A line sent back whose resolution and reason do not waive the return fee; with a
    store rule's fee, any line sent back."""
    fee = policy.return_fee
    if keep_item or not line.quantity:
        return False
    if rule_fee is not None:
        return True
    if line.resolution in fee.waived_for_resolutions:
        return False
    return not (fee.waived_when_seller_fault and line.seller_fault)


def estimate_return(
    lines: Sequence[EstimateLine],
    *,
    policy: StorePolicy,
    currency: str,
    received: bool = False,
    return_fee: Decimal | None = None,
) -> Estimate:
    """Itemise what the shopper gets back for one RMA's lines.

    - Keep the item (before receipt only): a refund or store credit line paid less than
      `keep_item_below` per unit, or kept by a store rule (`EstimateLine.keep_item`), that
      needs no review need not be sent back; it is refunded all the same.
    - Restocking fee (after receipt only, `received=True`): `restocking_fee_percent` of a
      refund's or store credit's amount, unless the reason is the seller's fault.
    - Return fee: `return_fee.amount` once per RMA, when at least one line sent back has a
      resolution not in `waived_for_resolutions` and (with `waived_when_seller_fault`) a
      reason that is not the seller's fault; never when every line is kept. It is taken
      from what goes back (first from the lines that made it due, in order), never more.
      `return_fee`: a store rule's fee for this RMA (0 when a rule waives it): it replaces
      the policy's amount and its waivers, and is due when any line is sent back.
    - Bonus: store credit lines get `store_credit_bonus_percent` of their amount after the
      restocking fee, before the return fee.
    - An exchange for a cheaper variant refunds the difference.

    Every amount is rounded half up to the currency's minor unit; totals are exact sums.
    """
    zero = money.zero(currency)
    threshold = policy.keep_item_below
    restocking_percent = policy.restocking_fee_percent if received else Decimal(0)
    bonus_percent = policy.store_credit_bonus_percent

    drafts = []
    for line in lines:
        keep = not received and keeps_item(line, threshold=threshold, currency=currency)
        amount = _line_amount(line, currency)
        restocking = zero
        if line.resolution in MONEY_RESOLUTIONS and not line.seller_fault:
            restocking = min(money.percent_of(amount, restocking_percent, currency), amount)
        after_restocking = amount - restocking
        bonus = zero
        if line.resolution == Resolution.STORE_CREDIT:
            bonus = money.percent_of(after_restocking, bonus_percent, currency)
        drafts.append(
            {
                "line": line,
                "keep": keep,
                "amount": amount,
                "restocking": restocking,
                "available": after_restocking,
                "bonus": bonus,
                "due": _fee_is_due(line, policy, keep, return_fee),
            }
        )

    fee = zero
    if any(draft["due"] for draft in drafts):
        available = sum((draft["available"] for draft in drafts), zero)
        amount = policy.return_fee.amount if return_fee is None else return_fee
        fee = min(money.quantize(amount, currency), available)
    shares = dict.fromkeys(range(len(drafts)), zero)
    remaining = fee
    # The lines that made the fee due pay it first, then the others, in the given order.
    order = sorted(range(len(drafts)), key=lambda index: not drafts[index]["due"])
    for index in order:
        share = min(remaining, drafts[index]["available"])
        shares[index] = share
        remaining -= share

    itemised = tuple(
        LineEstimate(
            key=draft["line"].key,
            resolution=draft["line"].resolution,
            quantity=draft["line"].quantity,
            amount_paid=money.quantize(draft["line"].amount_paid, currency),
            keep_item=draft["keep"],
            amount=draft["amount"],
            restocking_fee=draft["restocking"],
            return_fee=shares[index],
            bonus=draft["bonus"],
            total=draft["available"] - shares[index] + draft["bonus"],
        )
        for index, draft in enumerate(drafts)
    )
    subtotal = sum((line.amount for line in itemised), zero)
    restocking_fees = sum((line.restocking_fee for line in itemised), zero)
    bonus = sum((line.bonus for line in itemised), zero)
    return Estimate(
        currency=currency,
        lines=itemised,
        subtotal=subtotal,
        restocking_fees=restocking_fees,
        return_fee=fee,
        bonus=bonus,
        total=subtotal - restocking_fees - fee + bonus,
    )

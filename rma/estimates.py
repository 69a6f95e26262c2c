"""What the shopper gets back, for requests and RMAs: the glue between the returns domain and
the pure estimate (`payments.estimate.estimate_return`).

- `request_groups`: how a request splits into RMAs (one per return destination, and the
  lines the shopper may keep in an RMA of their own) with each RMA's estimate. The request
  service creates exactly these RMAs, and the portal shows exactly these estimates.
  The store rules' route, keep and fee decisions are applied here; each group carries
  the ones that shaped it, which the request stores on the RMA (`Rma.rule_decisions`).
- `rma_estimates`: the estimate of RMAs already created (API, confirmation and status
  pages, emails), from the quantities requested, before receipt, with the rule decisions
  stored on the RMA (`stored_decisions`; the resolution reads them too).
- `estimate_view` / `outcome_view`: what the templates show, amounts as `Decimal`s to be
  formatted with `{% load money %}{{ amount|money:currency }}`.

"Already returned" (which units of an order line an RMA takes, so the rounding remainder
of the line's last unit is counted once) is, as at resolution, the units received by the
order line's RESOLVED RMAs; for an existing RMA only those created before it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from catalogue.selectors import exchange_of, variant_price
from payments import money
from payments.estimate import MONEY_RESOLUTIONS, Estimate, EstimateLine, estimate_return
from policies.rules import (
    NO_DECISION,
    STORE_DESTINATION,
    LineDecision,
    destination,
    return_fee_decision,
    routed_destination,
)
from rma.models import OrderLine, Resolution, Rma, RmaLine, RmaStatus, Supplier
from rma.policy import StorePolicy


@dataclass(frozen=True)
class RequestGroup:
    """The lines of a request that become one RMA, with that RMA's estimate.

    `kept`: every line may be kept (nothing is sent back); such an RMA is resolved when it
    is created, without a label.
    """

    supplier_id: int | None
    kept: bool
    lines: tuple
    estimate: Estimate
    # The return destination (None: the store's warehouse), as `supplier_id`.
    supplier: Supplier | None = None
    # The store rules' decisions that shaped this RMA (`Rma.rule_decisions`).
    rule_decisions: tuple = ()


# --- Hooks for exchanges -----------------------------------------------------------------
# An exchange for a cheaper variant refunds the difference: the estimate needs the
# replacement's unit price. The exchange wiring fills these two in (they return None while
# no replacement is chosen, and the exchange then gives nothing back).


def requested_exchange_price(requested, order_line: OrderLine) -> Decimal | None:
    """The replacement's unit price for a line being requested (`RequestedLine`): as the
    request service quoted it, else the catalogue's price of `exchange_item_id` (one query;
    None when the item is not in the store's catalogue)."""
    price = getattr(requested, "exchange_unit_price", None)
    item_id = getattr(requested, "exchange_item_id", "")
    if price is not None or not item_id:
        return price
    return variant_price(order_line=order_line, item_id=item_id)


def rma_line_exchange_price(rma_line: RmaLine) -> Decimal | None:
    """The replacement's unit price for a line of an existing RMA: its exchange
    reservation's (loaded with the line by `rma.selectors.rma_lines_queryset`)."""
    reservation = exchange_of(rma_line)
    return reservation.unit_price if reservation is not None else None


# --- Already returned ----------------------------------------------------------------------


def units_returned(order_line_ids: Iterable[int]) -> dict[int, int]:
    """Per order line, the units received by its RESOLVED RMAs (one query)."""
    returned: dict[int, int] = defaultdict(int)
    for order_line_id, received in RmaLine.objects.filter(
        order_line_id__in=list(order_line_ids), rma__status=RmaStatus.RESOLVED
    ).values_list("order_line_id", "received_quantity"):
        returned[order_line_id] += received or 0
    return returned


def _flags(policy: StorePolicy, reason_code: str) -> tuple[bool, bool]:
    """(seller_fault, requires_review); a code the store has not configured: neither."""
    reason = policy.reason(reason_code)
    return (bool(reason and reason.seller_fault), bool(reason and reason.requires_review))


def _estimate_line(
    order_line,
    *,
    key,
    currency,
    quantity,
    already,
    resolution,
    policy,
    reason_code,
    exchange_price,
    rule_review=False,
    rule_keep=False,
):
    seller_fault, review = _flags(policy, reason_code)
    # Never count more earlier units than leave room for this return.
    already = max(0, min(already, order_line.quantity - quantity))
    return EstimateLine.for_order_line(
        order_line,
        key=key,
        currency=currency,
        quantity=quantity,
        already_returned=already,
        resolution=resolution,
        seller_fault=seller_fault,
        requires_review=review or rule_review,
        exchange_unit_price=exchange_price,
        keep_item=rule_keep,
    )


# --- Store rules' decisions ----------------------------------------------------------------
# What the store's rules decided for a request's lines and that shaped an RMA is kept on it
# (`Rma.rule_decisions`), one record per decision, each naming its rule:
#   {"line_number": 2, "action": "keep_item", "rule": "Socks: keep"}
#   {"line_number": 1, "action": "set_return_fee", "rule": "...", "amount": "2.50"}
#   {"line_number": 1, "action": "waive_return_fee", "rule": "...", "amount": "0.00"}
#   {"line_number": 3, "action": "route", "rule": "...", "destination": "ACME"}
#   {"line_number": 1, "action": "require_review", "rule": "..."}
#   {"line_number": 1, "action": "extend_window", "rule": "...", "days": 30}
# Later estimates of the RMA and its resolution read the fee, keep and review records, so
# they apply the decisions the request applied, whatever the policy says by then.

FEE_ACTIONS = ("set_return_fee", "waive_return_fee")


@dataclass(frozen=True)
class StoredDecisions:
    """The effect on money of an RMA's stored rule decisions."""

    kept: frozenset[int] = frozenset()  # line numbers a rule keeps
    review: frozenset[int] = frozenset()  # line numbers a rule sends for review
    return_fee: Decimal | None = None  # the rule's fee for the RMA, if any


def stored_decisions(records) -> StoredDecisions:
    records = [record for record in records or () if isinstance(record, dict)]
    fee = next((r.get("amount") for r in records if r.get("action") in FEE_ACTIONS), None)
    return StoredDecisions(
        kept=frozenset(r.get("line_number") for r in records if r.get("action") == "keep_item"),
        review=frozenset(
            r.get("line_number") for r in records if r.get("action") == "require_review"
        ),
        return_fee=None if fee is None else money.to_decimal(fee),
    )


def _records(numbers, decisions, *, estimate: Estimate, routed: set, currency: str) -> tuple:
    """The decisions that shaped one RMA of the request (its lines' numbers, in order)."""
    records = []
    fee_taken = estimate.all_kept  # a kept RMA pays no fee: no fee decision applies
    kept = {line.key for line in estimate.lines if line.keep_item}
    for number in numbers:
        decision = decisions.get(number)
        if decision is None or not decision.fired:
            continue
        if decision.extend_window:
            records.append(
                _record(
                    number, "extend_window", decision.extend_window, days=decision.extension_days
                )
            )
        records += [_record(number, "require_review", review) for review in decision.review]
        if decision.keep_item and number in kept:
            records.append(_record(number, "keep_item", decision.keep_item))
        if decision.route and number in routed:
            records.append(
                _record(number, "route", decision.route, destination=decision.route.value)
            )
        if decision.return_fee and not fee_taken:
            fee_taken = True
            value = decision.return_fee.value
            action = "waive_return_fee" if not value else "set_return_fee"
            records.append(
                _record(
                    number, action, decision.return_fee, amount=money.as_string(value, currency)
                )
            )
    return tuple(records)


def _record(number: int, action: str, decided, **extra) -> dict:
    return {"line_number": number, "action": action, "rule": decided.rule, **extra}


def _fee_of(numbers, decisions) -> Decimal | None:
    """The first line's (in line order) rule fee among these lines, if any."""
    decided = return_fee_decision(decisions.get(number) for number in numbers)
    return None if decided is None else decided.value


def _routed_suppliers(lines, decisions, store) -> dict[str, Supplier]:
    """The store's suppliers that rules route these lines to, by code (one query, only when
    a rule routes a line to a supplier)."""
    codes = {destination(decisions.get(line.line_number), STORE_DESTINATION) for line in lines} - {
        STORE_DESTINATION
    }
    if not codes or store is None:
        return {}
    return {s.code: s for s in Supplier.objects.filter(store=store, code__in=sorted(codes))}


# --- Requests ------------------------------------------------------------------------------


def request_groups(
    *,
    lines: Sequence,
    order_lines: dict[int, OrderLine],
    resolution: str,
    policy: StorePolicy,
    currency: str,
    already: dict[int, int],
    split_kept: bool = True,
    decisions: dict[int, LineDecision] | None = None,
    store=None,
) -> list[RequestGroup]:
    """Split requested lines (`RequestedLine`s, by line number in `order_lines`) into the
    RMAs they become, each with its estimate (before receipt).

    One RMA per return destination (the store's warehouse first, then suppliers by id);
    within a destination, with `split_kept`, the lines that may be kept form an RMA of
    their own, placed before the one sent back. Lines without a valid order line or
    quantity are left out (the request service refuses them before this is used).

    `decisions` (line number → the store rules' `LineDecision`, evaluated with the reasons
    and the channel of the request): a `route` sends the line to that destination (a
    supplier of `store` by code, or the warehouse); a `keep_item` keeps it (with
    `split_kept`); a `require_review` keeps it from being kept; the first line (in line
    order) of an RMA whose decision sets or waives the return fee gives that RMA's fee.
    Each group carries the decisions that shaped it (`rule_decisions`).
    """
    decisions = decisions or {}
    valid = [
        requested
        for requested in sorted(lines, key=lambda line: line.line_number)
        if requested.line_number in order_lines
        and 0 < requested.quantity <= order_lines[requested.line_number].quantity
    ]
    routed_to = _routed_suppliers(valid, decisions, store)
    by_destination: dict[int | None, list] = defaultdict(list)
    suppliers: dict[int | None, Supplier | None] = {None: None}
    routed: set[int] = set()
    for requested in valid:
        order_line = order_lines[requested.line_number]
        supplier, was_routed = routed_destination(
            decisions.get(requested.line_number),
            order_line.supplier if order_line.supplier_id else None,
            routed_to,
        )
        if was_routed:
            routed.add(requested.line_number)
        key = supplier.pk if supplier is not None else None
        suppliers[key] = supplier
        by_destination[key].append(requested)

    def line_of(requested) -> EstimateLine:
        order_line = order_lines[requested.line_number]
        decision = decisions.get(requested.line_number) or NO_DECISION
        return _estimate_line(
            order_line,
            key=requested.line_number,
            currency=currency,
            quantity=requested.quantity,
            already=already.get(order_line.pk, 0),
            resolution=resolution,
            policy=policy,
            reason_code=requested.reason_code,
            exchange_price=requested_exchange_price(requested, order_line),
            rule_review=decision.requires_review,
            # Goods taken at a counter (no split) are in hand: nothing is kept.
            rule_keep=split_kept and decision.keep_item is not None,
        )

    def estimate(group) -> Estimate:
        return estimate_return(
            [line_of(requested) for requested in group],
            policy=policy,
            currency=currency,
            return_fee=_fee_of([line.line_number for line in group], decisions),
        )

    def group_of(supplier_id, kept: bool, group, estimated: Estimate) -> RequestGroup:
        records = _records(
            [line.line_number for line in group],
            decisions,
            estimate=estimated,
            routed=routed,
            currency=currency,
        )
        return RequestGroup(
            supplier_id, kept, tuple(group), estimated, suppliers[supplier_id], records
        )

    groups = []
    for supplier_id, destination_lines in sorted(
        by_destination.items(), key=lambda item: (item[0] is not None, item[0] or 0)
    ):
        whole = estimate(destination_lines)
        kept_numbers = {line.key for line in whole.lines if line.keep_item}
        if not split_kept or not kept_numbers or whole.all_kept:
            groups.append(
                group_of(supplier_id, whole.all_kept and split_kept, destination_lines, whole)
            )
            continue
        kept = [line for line in destination_lines if line.line_number in kept_numbers]
        sent = [line for line in destination_lines if line.line_number not in kept_numbers]
        groups.append(group_of(supplier_id, True, kept, estimate(kept)))
        groups.append(group_of(supplier_id, False, sent, estimate(sent)))
    return groups


def combined(estimates: Sequence[Estimate], *, currency: str) -> Estimate:
    """The estimates of one request's RMAs summed (`Estimate.combine`)."""
    return Estimate.combine(estimates, currency=currency)


# --- Existing RMAs -------------------------------------------------------------------------


def rma_estimates(
    rmas: Sequence[Rma], *, returned_before: Mapping[int, int] | None = None
) -> dict[int, Estimate]:
    """Each RMA's estimate (fetched with its lines and order lines, e.g. `rmas_with_lines`):
    the quantities requested, the RMA's resolution, before receipt. One query in all, none
    when the caller knows `returned_before`: per order line, the units RESOLVED RMAs took
    before all of `rmas` (a request that has just created them, under the order's lock)."""
    rmas = list(rmas)
    if not rmas:
        return {}
    taken = (
        _returned_before_each(rmas)
        if returned_before is None
        else {rma.pk: returned_before for rma in rmas}
    )
    policies: dict[int, StorePolicy] = {}
    estimates = {}
    for rma in rmas:
        policy = policies.setdefault(rma.store_id, StorePolicy.of(rma.store))
        currency = rma.store.currency
        # The rules' decisions as the request applied them (keep, review, fee).
        stored = stored_decisions(rma.rule_decisions)
        estimates[rma.pk] = estimate_return(
            [
                _estimate_line(
                    line.order_line,
                    key=line.pk,
                    currency=currency,
                    quantity=line.quantity,
                    already=taken[rma.pk].get(line.order_line_id, 0),
                    resolution=rma.resolution,
                    policy=policy,
                    reason_code=line.reason_code,
                    exchange_price=rma_line_exchange_price(line),
                    rule_review=line.order_line.line_number in stored.review,
                    rule_keep=line.order_line.line_number in stored.kept,
                )
                for line in rma.lines.all()
            ],
            policy=policy,
            currency=currency,
            return_fee=stored.return_fee,
        )
    return estimates


def _returned_before_each(rmas: list[Rma]) -> dict[int, dict[int, int]]:
    """Per RMA, per order line: the units received by RESOLVED RMAs older than it (one
    query)."""
    order_line_ids = {line.order_line_id for rma in rmas for line in rma.lines.all()}
    earlier: list[tuple[int, int, int]] = list(
        RmaLine.objects.filter(
            order_line_id__in=order_line_ids, rma__status=RmaStatus.RESOLVED
        ).values_list("rma_id", "order_line_id", "received_quantity")
    )
    returned: dict[int, dict[int, int]] = {}
    for rma in rmas:
        taken = returned[rma.pk] = defaultdict(int)
        for rma_id, order_line_id, received in earlier:
            if rma_id < rma.pk:
                taken[order_line_id] += received or 0
    return returned


def is_kept(rma: Rma) -> bool:
    """An RMA whose items the shopper keeps: resolved when requested, never received."""
    return rma.status == RmaStatus.RESOLVED and rma.received_at is None


# --- What templates show -------------------------------------------------------------------


def resolution_label(resolution: str) -> str:
    texts = {
        Resolution.REFUND: _("Refund"),
        Resolution.STORE_CREDIT: _("Store credit"),
        Resolution.EXCHANGE: _("Exchange"),
        Resolution.REPAIR: _("Repair"),
        Resolution.REPLACEMENT: _("Replacement"),
    }
    return str(texts.get(resolution, resolution))


def estimate_view(estimate: Estimate, *, titles: dict | None = None) -> dict:
    """An estimate for `portal/includes/estimate.html` and the emails."""
    titles = titles or {}
    return {
        "currency": estimate.currency,
        "plain_total": money.as_string(estimate.total, estimate.currency),
        "subtotal": estimate.subtotal,
        "restocking_fees": estimate.restocking_fees,
        "return_fee": estimate.return_fee,
        "fees": estimate.fees,
        "bonus": estimate.bonus,
        "total": estimate.total,
        "refund_total": estimate.refund_total,
        "store_credit_total": estimate.store_credit_total,
        "all_kept": estimate.all_kept,
        "any_kept": any(line.keep_item for line in estimate.lines),
        "is_money": any(line.resolution in MONEY_RESOLUTIONS for line in estimate.lines),
        "lines": [
            {
                "title": titles.get(line.key, ""),
                "quantity": line.quantity,
                "resolution": line.resolution,
                "resolution_text": resolution_label(line.resolution),
                "amount": line.amount,
                "keep_item": line.keep_item,
            }
            for line in estimate.lines
        ],
    }


def rma_line_titles(rma: Rma) -> dict[int, str]:
    return {line.pk: line.order_line.title or line.order_line.item_id for line in rma.lines.all()}


def outcome_view(rma: Rma, *, return_fee: Decimal | None = None) -> dict | None:
    """The final outcome of a RESOLVED RMA per line and in total, else None.

    A line received at quantity 0 is "not received" (nothing given back), never a refund of
    zero. `return_fee`: the fee recorded at resolution (the `rma.resolved` event).
    """
    if rma.status != RmaStatus.RESOLVED:
        return None
    currency = rma.store.currency
    zero = money.zero(currency)
    kept = is_kept(rma)
    lines = []
    for line in rma.lines.all():
        not_received = not kept and (line.received_quantity or 0) == 0
        lines.append(
            {
                "title": line.order_line.title or line.order_line.item_id,
                "quantity": line.quantity,
                "received_quantity": line.received_quantity,
                "not_received": not_received,
                "kept": kept,
                "outcome": line.outcome,
                "outcome_text": resolution_label(line.outcome) if line.outcome else "",
                "refund_amount": None if not_received else line.refund_amount,
                "store_credit_amount": None if not_received else line.store_credit_amount,
                "store_credit_code": "" if not_received else line.store_credit_code,
                "replacement_item_id": "" if not_received else line.replacement_item_id,
            }
        )
    refund_total = sum((line.refund_amount or zero for line in rma.lines.all()), zero)
    credit_total = sum((line.store_credit_amount or zero for line in rma.lines.all()), zero)
    return {
        "currency": currency,
        "kept": kept,
        "lines": lines,
        "return_fee": return_fee if return_fee else None,
        "refund_total": refund_total,
        "store_credit_total": credit_total,
        "total": refund_total + credit_total,
        "plain_total": money.as_string(refund_total + credit_total, currency),
    }


def resolved_return_fee(rma: Rma) -> Decimal | None:
    """The return fee recorded by the RMA's `rma.resolved` event (one query), if any."""
    data = (
        rma.events.filter(type="rma.resolved")
        .order_by("-created_at")
        .values_list("data", flat=True)
        .first()
    )
    value = (data or {}).get("return_fee")
    try:
        return money.to_decimal(value) if value not in (None, "") else None
    except money.MoneyError:
        return None

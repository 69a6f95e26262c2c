"""The policy simulator (docs/console.md): a draft policy replayed over a store's history.

Two passes over the store's rows, each streamed with `.values_list().iterator()` and
evaluated by the same pure functions as live eligibility (`rma.eligibility`) and the store
rules (`policies.rules`), for the live policy and the draft side by side:

1. **Order lines**: is each line returnable under the policy, judged at the moment its
   return window opened (delivery, else shipping, else placing)? That is eligibility
   without the clock: statuses, countries, states, hazmat, exclusions, store-rule blocks.
2. **Past RMAs**: each RMA's lines judged at the moment it was requested, with its
   reasons and channel: would it be blocked (any line ineligible; RMA 1007 is left out, as
   the RMA itself holds the quantity), sent for review, or pass; and for those that pass,
   what it would cost and give back: label spend (one label per RMA with a line sent back),
   refund, store credit (with the bonus) and exchange totals, return fees collected.

The customer's earlier returns (for return-count rules) are read once for the store, one
query, and kept per customer as sorted moments.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models.functions import Upper

from payments.estimate import EstimateLine, keeps_item
from policies.rules import (
    STORE_DESTINATION,
    LineDecision,
    decide,
    return_fee_decision,
    routed_destination,
)
from rma.eligibility import (
    last_return_moment,
    line_amount,
    line_level_codes,
    order_level_codes,
    reference_moment,
    rule_facts,
)
from rma.models import OrderLine, Resolution, Rma, RmaLine, Supplier
from rma.policy import StorePolicy

CENT = Decimal("0.01")
ITERATOR_CHUNK = 2000


@dataclass
class Totals:
    """What one policy gives over the history."""

    lines: int = 0
    lines_eligible: int = 0
    rmas: int = 0
    rmas_blocked: int = 0
    rmas_reviewed: int = 0
    labels: int = 0
    label_spend: Decimal = Decimal(0)
    refund_total: Decimal = Decimal(0)
    store_credit_total: Decimal = Decimal(0)
    exchange_total: Decimal = Decimal(0)
    fees_collected: Decimal = Decimal(0)
    # Rule name → how many RMAs (or lines, in pass 1) it decided something for.
    rules_fired: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def as_rows(self) -> list[tuple[str, object]]:
        return [
            ("lines", self.lines),
            ("lines_eligible", self.lines_eligible),
            ("rmas", self.rmas),
            ("rmas_blocked", self.rmas_blocked),
            ("rmas_reviewed", self.rmas_reviewed),
            ("labels", self.labels),
            ("label_spend", self.label_spend),
            ("refund_total", self.refund_total),
            ("store_credit_total", self.store_credit_total),
            ("exchange_total", self.exchange_total),
            ("fees_collected", self.fees_collected),
        ]


@dataclass
class Simulation:
    live: Totals
    draft: Totals

    def rows(self) -> list[dict]:
        """One row per figure: live, draft and the difference."""
        return [
            {"name": name, "live": live, "draft": draft, "change": draft - live}
            for (name, live), (_, draft) in zip(
                self.live.as_rows(), self.draft.as_rows(), strict=True
            )
        ]


class _Order:
    """The attributes of an order the pure rule functions read."""

    __slots__ = (
        "customer_email",
        "customer_tags",
        "delivered_at",
        "lines",
        "pk",
        "placed_at",
        "shipped_at",
        "shipping_address",
        "status",
        "total",
    )

    def __init__(self, pk, status, address, placed, shipped, delivered, email, tags):
        self.pk = pk
        self.status = status
        self.shipping_address = address
        self.placed_at = placed
        self.shipped_at = shipped
        self.delivered_at = delivered
        self.customer_email = email
        self.customer_tags = tags or []
        self.lines = []
        self.total = Decimal(0)


class _Line:
    __slots__ = (
        "delivered_at",
        "department",
        "discount",
        "final_sale",
        "hazmat",
        "item_id",
        "line_number",
        "quantity",
        "supplier_id",
        "tax",
        "unit_price",
    )

    def __init__(self, *values):
        for name, value in zip(LINE_FIELDS, values, strict=True):
            setattr(self, name, value)


ORDER_FIELDS = (
    "order_id",
    "order__status",
    "order__shipping_address",
    "order__placed_at",
    "order__shipped_at",
    "order__delivered_at",
    "order__customer_email",
    "order__customer_tags",
)
LINE_FIELDS = (
    "line_number",
    "item_id",
    "department",
    "quantity",
    "unit_price",
    "discount",
    "tax",
    "hazmat",
    "final_sale",
    "delivered_at",
    "supplier_id",
)


def _orders(rows):
    """Consecutive line rows (ordered by order) grouped into `_Order`s with their lines."""
    current = None
    for row in rows:
        order_values, line_values = row[: len(ORDER_FIELDS)], row[len(ORDER_FIELDS) :]
        if current is None or current.pk != order_values[0]:
            if current is not None:
                yield current
            current = _Order(*order_values)
        line = _Line(*line_values)
        current.lines.append(line)
        current.total += line_amount(line)
    if current is not None:
        yield current


class _Judge:
    """One policy's eligibility and rules over plain rows (no queries)."""

    def __init__(self, policy: StorePolicy, timezone: str, history: dict[str, list]):
        self.policy = policy
        self.timezone = timezone
        self.rules = policy.rules
        self.history = history
        # (the store's currency, its suppliers' ids by code for `route`), set by `simulate`.
        self.money_context: tuple[str, dict] = ("USD", {})

    def decision(self, order, line, *, now, reason=None, channel=None) -> LineDecision | None:
        if not self.rules:
            return None
        moments = self.history.get((order.customer_email or "").upper(), ())
        # Only the returns requested before `now` count (the history is sorted).
        moments = moments[: bisect.bisect_right(moments, now)] if moments else ()
        facts = rule_facts(
            order=order,
            line=line,
            order_total=order.total,
            now=now,
            reason=reason,
            channel=channel,
            return_moments=moments,
        )
        return decide(self.rules, facts)

    def failing_codes(self, order, line, *, now, order_codes, decision) -> list[str]:
        extra = decision.extension_days if decision else 0
        last = last_return_moment(
            order=order, line=line, policy=self.policy, timezone=self.timezone, extra_days=extra
        )
        codes = list(order_codes)
        codes += line_level_codes(
            order=order,
            line=line,
            policy=self.policy,
            returnable_quantity=line.quantity,
            last_moment=last,
            now=now,
        )
        if decision is not None and decision.block is not None:
            codes.append("RMA 1024")
        return codes


def _history(store) -> dict[str, list[dt.datetime]]:
    """When each customer (email in capitals) of the store requested returns: one query."""
    moments = defaultdict(list)
    rows = (
        Rma.objects.filter(store=store)
        .annotate(email=Upper("order__customer_email"))
        .values_list("email", "created_at")
        .order_by()
        .iterator(chunk_size=ITERATOR_CHUNK)
    )
    for email, created_at in rows:
        moments[email].append(created_at)
    for values in moments.values():
        values.sort()
    return moments


def simulate(*, store, draft: dict, label_cost: Decimal = Decimal("8.00")) -> Simulation:
    """Replay the store's orders and RMAs under its live policy and under `draft`."""
    history = _history(store)
    judges = {
        "live": _Judge(StorePolicy.of(store), store.timezone, history),
        "draft": _Judge(StorePolicy(draft), store.timezone, history),
    }
    # Rules that route to a supplier need the store's suppliers by code: one query.
    routes = any(
        action.type == "route" and action.destination != STORE_DESTINATION
        for judge in judges.values()
        for rule in judge.rules
        for action in rule.actions
    )
    suppliers = (
        dict(Supplier.objects.filter(store=store).values_list("code", "pk")) if routes else {}
    )
    for judge in judges.values():
        judge.money_context = (store.currency, suppliers)
    totals = {name: Totals() for name in judges}
    _replay_lines(store, judges, totals)
    _replay_rmas(store, judges, totals, label_cost)
    return Simulation(live=totals["live"], draft=totals["draft"])


def _replay_lines(store, judges, totals) -> None:
    rows = (
        OrderLine.objects.filter(order__store=store)
        .order_by("order_id", "line_number")
        .values_list(*ORDER_FIELDS, *LINE_FIELDS)
        .iterator(chunk_size=ITERATOR_CHUNK)
    )
    for order in _orders(rows):
        for name, judge in judges.items():
            total = totals[name]
            order_codes = order_level_codes(order=order, policy=judge.policy)
            for line in order.lines:
                now = reference_moment(order=order, line=line)
                decision = judge.decision(order, line, now=now)
                codes = judge.failing_codes(
                    order, line, now=now, order_codes=order_codes, decision=decision
                )
                total.lines += 1
                if not codes:
                    total.lines_eligible += 1
                if decision is not None:
                    for rule in decision.fired:
                        total.rules_fired[rule] += 1


RMA_FIELDS = ("rma_id", "rma__created_at", "rma__resolution", "rma__channel", "rma__order_id")
RMA_LINE_FIELDS = ("quantity", "reason_code")


def _replay_rmas(store, judges, totals, label_cost: Decimal) -> None:
    # Order totals for the rules: one pass over the store's lines, summed per order.
    order_totals: dict[int, Decimal] = defaultdict(Decimal)
    for order_pk, price, quantity, discount, tax in (
        OrderLine.objects.filter(order__store=store)
        .values_list("order_id", "unit_price", "quantity", "discount", "tax")
        .order_by()
        .iterator(chunk_size=ITERATOR_CHUNK)
    ):
        order_totals[order_pk] += price * quantity - (discount or 0) + (tax or 0)
    rows = (
        RmaLine.objects.filter(rma__store=store)
        .order_by("rma_id", "order_line__line_number")
        .values_list(
            *RMA_FIELDS,
            *RMA_LINE_FIELDS,
            *(f"order_line__{name}" for name in ORDER_FIELDS),
            *(f"order_line__{name}" for name in LINE_FIELDS),
        )
        .iterator(chunk_size=ITERATOR_CHUNK)
    )
    current, lines = None, []
    for row in rows:
        if current is not None and current[0] != row[0]:
            _judge_rma(current, lines, judges, totals, label_cost, order_totals)
            lines = []
        current = row[: len(RMA_FIELDS)]
        lines.append(row[len(RMA_FIELDS) :])
    if current is not None:
        _judge_rma(current, lines, judges, totals, label_cost, order_totals)


def _judge_rma(rma, rows, judges, totals, label_cost, order_totals) -> None:
    _, created_at, resolution, channel, order_pk = rma
    first = rows[0]
    order = _Order(*first[2 : 2 + len(ORDER_FIELDS)])
    order.total = order_totals.get(order_pk, Decimal(0))
    lines = [(row[0], row[1], _Line(*row[2 + len(ORDER_FIELDS) :])) for row in rows]
    for name, judge in judges.items():
        total = totals[name]
        total.rmas += 1
        policy = judge.policy
        order_codes = order_level_codes(order=order, policy=policy)
        blocked = reviewed = False
        decisions = []
        for _quantity, reason_code, line in lines:
            decision = judge.decision(
                order, line, now=created_at, reason=reason_code, channel=channel
            )
            decisions.append(decision)
            codes = judge.failing_codes(
                order, line, now=created_at, order_codes=order_codes, decision=decision
            )
            if any(code != "RMA 1007" for code in codes):
                blocked = True
            reason = policy.reason(reason_code)
            if (reason is not None and reason.requires_review) or (
                decision is not None and decision.requires_review
            ):
                reviewed = True
            if decision is not None and decision.fired:
                for rule in decision.fired:
                    total.rules_fired[rule] += 1
        if blocked:
            total.rmas_blocked += 1
            continue
        if reviewed:
            total.rmas_reviewed += 1
        _money(total, policy, resolution, lines, decisions, label_cost, judge.money_context)


def _money(
    total: Totals, policy: StorePolicy, resolution, lines, decisions, label_cost, context
) -> None:
    """What one RMA that passes would give back and cost under `policy`.

    Its lines are split as a request today would split them (`rma.estimates.request_groups`):
    by return destination (a rule's `route`), and the lines kept (`keeps_item`: the policy's
    threshold or a rule's `keep_item`) apart; one label and one return fee per RMA sent back,
    the fee a rule sets or waives taken from the RMA's first line that has one
    (`return_fee_decision`), as live.
    """
    currency, suppliers = context
    threshold = policy.keep_item_below
    restocking = policy.restocking_fee_percent / 100
    bonus = policy.store_credit_bonus_percent / 100
    groups: dict[tuple, list] = defaultdict(list)
    for (quantity, reason_code, line), decision in zip(lines, decisions, strict=True):
        paid = line_amount(line) / line.quantity if line.quantity else Decimal(0)
        reason = policy.reason(reason_code)
        seller_fault = reason is not None and reason.seller_fault
        review = (reason is not None and reason.requires_review) or (
            decision is not None and decision.requires_review
        )
        kept = keeps_item(
            EstimateLine(
                key=line.line_number,
                unit_amounts=(paid,) * quantity,
                resolution=resolution,
                seller_fault=seller_fault,
                requires_review=review,
                keep_item=decision is not None and decision.keep_item is not None,
            ),
            threshold=threshold,
            currency=currency,
        )
        amount = (paid * quantity).quantize(CENT, ROUND_HALF_UP)
        if resolution == Resolution.REFUND and not seller_fault:
            amount -= (amount * restocking).quantize(CENT, ROUND_HALF_UP)
        where, _routed = routed_destination(decision, line.supplier_id, suppliers)
        groups[(where, kept)].append((amount, seller_fault, decision))
    for (_where, kept), group in groups.items():
        amount_back = sum((amount for amount, _fault, _decision in group), Decimal(0))
        fee = Decimal(0)
        if not kept:
            total.labels += 1
            total.label_spend += label_cost
            rule_fee = return_fee_decision(decision for _amount, _fault, decision in group)
            policy_fee = policy.return_fee
            if rule_fee is not None:
                fee = rule_fee.value  # a rule sets or waives (0) the fee
            elif any(
                resolution not in policy_fee.waived_for_resolutions
                and not (policy_fee.waived_when_seller_fault and fault)
                for _amount, fault, _decision in group
            ):
                fee = policy_fee.amount
        if resolution == Resolution.REFUND:
            fee = min(fee, amount_back)
            total.refund_total += amount_back - fee
        elif resolution == Resolution.STORE_CREDIT:
            fee = min(fee, amount_back)
            credit = amount_back + (amount_back * bonus).quantize(CENT, ROUND_HALF_UP)
            total.store_credit_total += credit - fee
        elif resolution == Resolution.EXCHANGE:
            total.exchange_total += amount_back
            fee = Decimal(0)  # an exchange pays nothing back to deduct a fee from
        else:
            fee = Decimal(0)
        total.fees_collected += fee

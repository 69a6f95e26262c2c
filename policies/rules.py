"""Store rules (docs/console.md): condition → action, evaluated purely, like eligibility.

A store's policy may carry `"rules"`: a list of rules, each with a `name`, the conditions
it needs (`when`, all of them must hold) and what it does (`then`). The import reader
(`rma.importing.schema.read_rules`) checks the document; `parse_rules` turns the checked
document into `StoreRule`s and `decide` evaluates them for one order line over facts the
caller already holds (`LineFacts`): nothing here queries the database.

Every rule that matches fires, in the order of the list. Where two rules decide the same
thing, the first in the list wins (the window extension: the longest), and every decision
names the rule that made it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

NUMBER_FIELDS = ("order_total", "line_amount", "return_count")
TEXT_FIELDS = (
    "department",
    "item",
    "reason",
    "customer_email",
    "customer_tag",
    "country",
    "channel",
)
CONDITION_FIELDS = NUMBER_FIELDS + TEXT_FIELDS
NUMBER_OPERATORS = ("gt", "gte", "lt", "lte", "eq")
TEXT_OPERATORS = ("in", "not_in", "ends_with")
ACTIONS = (
    "extend_window",
    "require_review",
    "block",
    "waive_return_fee",
    "set_return_fee",
    "keep_item",
    "route",
)
# The destination of a `route` action that means the store's own warehouse.
STORE_DESTINATION = "STORE"


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    # A Decimal for numbers, a tuple of casefolded texts for in/not_in, a text for ends_with.
    value: object
    # return_count only: the customer's returns in the last `days` days.
    days: int | None = None

    def holds(self, facts: LineFacts) -> bool:
        if self.field in NUMBER_FIELDS:
            number = self._number(facts)
            if number is None:
                return False
            return _compare(self.operator, Decimal(number), self.value)
        texts = self._texts(facts)
        if texts is None:
            # Not known here (the reason on the order page, the channel of a preview): a
            # condition on it does not hold, whichever the operator.
            return False
        if self.operator == "in":
            return any(text in self.value for text in texts)
        if self.operator == "not_in":
            return not any(text in self.value for text in texts)
        return any(text.endswith(self.value) for text in texts)

    def _number(self, facts: LineFacts):
        if self.field == "order_total":
            return facts.order_total
        if self.field == "line_amount":
            return facts.line_amount
        return facts.return_count(self.days)

    def _texts(self, facts: LineFacts) -> tuple[str, ...] | None:
        if self.field == "customer_tag":
            return tuple(tag.strip().casefold() for tag in facts.customer_tags)
        value = {
            "department": facts.department,
            "item": facts.item_id,
            "reason": facts.reason,
            "customer_email": facts.customer_email,
            "country": facts.country,
            "channel": facts.channel,
        }[self.field]
        return None if value is None else (value.strip().casefold(),)


def _compare(operator: str, left: Decimal, right: Decimal) -> bool:
    return {
        "gt": left > right,
        "gte": left >= right,
        "lt": left < right,
        "lte": left <= right,
        "eq": left == right,
    }[operator]


@dataclass(frozen=True)
class Action:
    type: str
    days: int | None = None
    message: str = ""
    amount: Decimal | None = None
    destination: str = ""


@dataclass(frozen=True)
class StoreRule:
    name: str
    conditions: tuple[Condition, ...]
    actions: tuple[Action, ...]
    enabled: bool = True

    def matches(self, facts: LineFacts) -> bool:
        return self.enabled and all(condition.holds(facts) for condition in self.conditions)

    @property
    def return_count_windows(self) -> frozenset[int]:
        return frozenset(c.days for c in self.conditions if c.field == "return_count")


@dataclass(frozen=True)
class LineFacts:
    """What the rules may look at for one order line; None: not known at this point."""

    order_total: Decimal
    line_amount: Decimal
    department: str
    item_id: str
    customer_email: str
    country: str
    customer_tags: tuple[str, ...] = ()
    reason: str | None = None
    channel: str | None = None
    # When the customer's earlier returns were requested (for return_count), and `now`.
    return_moments: tuple[dt.datetime, ...] = ()
    now: dt.datetime | None = None

    def return_count(self, days: int) -> int:
        if self.now is None:
            return len(self.return_moments)
        since = self.now - dt.timedelta(days=days)
        return sum(1 for moment in self.return_moments if moment >= since)


@dataclass(frozen=True)
class Decided:
    """One decision and the rule that made it."""

    rule: str
    value: object = True


@dataclass(frozen=True)
class LineDecision:
    """What the store's rules decided for one line; None fields: no rule decided that."""

    extend_window: Decided | None = None  # value: days
    review: tuple[Decided, ...] = ()
    block: Decided | None = None  # value: the message
    return_fee: Decided | None = None  # value: Decimal amount; Decimal(0) when waived
    keep_item: Decided | None = None
    route: Decided | None = None  # value: STORE_DESTINATION or a supplier code
    fired: tuple[str, ...] = field(default=())

    @property
    def extension_days(self) -> int:
        return self.extend_window.value if self.extend_window else 0

    @property
    def requires_review(self) -> bool:
        return bool(self.review)

    def summary(self) -> list[str]:
        """Each decision in words with its rule, for previews and events."""
        lines = []
        if self.extend_window:
            days = self.extend_window.value
            lines.append(f"window extended by {days} days ({self.extend_window.rule})")
        for review in self.review:
            lines.append(f"review required ({review.rule})")
        if self.block:
            lines.append(f"blocked: {self.block.value} ({self.block.rule})")
        if self.return_fee:
            lines.append(f"return fee {self.return_fee.value} ({self.return_fee.rule})")
        if self.keep_item:
            lines.append(f"item kept ({self.keep_item.rule})")
        if self.route:
            lines.append(f"routed to {self.route.value} ({self.route.rule})")
        return lines


NO_DECISION = LineDecision()


def decide(rules: tuple[StoreRule, ...], facts: LineFacts) -> LineDecision:
    """Every matching rule's actions for one line, each decision naming its rule."""
    if not rules:
        return NO_DECISION
    extend = block = fee = keep = route = None
    review: list[Decided] = []
    fired: list[str] = []
    for rule in rules:
        if not rule.matches(facts):
            continue
        fired.append(rule.name)
        for action in rule.actions:
            if action.type == "extend_window":
                if extend is None or action.days > extend.value:
                    extend = Decided(rule.name, action.days)
            elif action.type == "require_review":
                review.append(Decided(rule.name))
            elif action.type == "block":
                block = block or Decided(rule.name, action.message)
            elif action.type == "waive_return_fee":
                fee = fee or Decided(rule.name, Decimal(0))
            elif action.type == "set_return_fee":
                fee = fee or Decided(rule.name, action.amount)
            elif action.type == "keep_item":
                keep = keep or Decided(rule.name)
            elif action.type == "route":
                route = route or Decided(rule.name, action.destination)
    if not fired:
        return NO_DECISION
    return LineDecision(
        extend_window=extend,
        review=tuple(review),
        block=block,
        return_fee=fee,
        keep_item=keep,
        route=route,
        fired=tuple(fired),
    )


def return_fee_decision(decisions) -> Decided | None:
    """The store rules' return fee for one RMA: of its lines' decisions (in line order,
    None for a line without one), the first that sets or waives the fee."""
    return next(
        (d.return_fee for d in decisions if d is not None and d.return_fee is not None), None
    )


def destination(decision: LineDecision | None, default):
    """Where a line goes back: the `route` decision's destination (`STORE` or a supplier
    code) when a rule routes it, else `default` (the line's own)."""
    return decision.route.value if decision is not None and decision.route else default


def routed_destination(decision: LineDecision | None, own, suppliers):
    """`(destination, routed)` of a line: a `route` to `STORE` gives None (the store's
    warehouse), to a supplier code the value `suppliers` (the store's suppliers by code,
    as the caller identifies them) holds for it; otherwise, or for a code the store no
    longer has, the line's `own` destination, not routed."""
    code = destination(decision, None)
    if code == STORE_DESTINATION:
        return None, True
    if code is not None and code in suppliers:
        return suppliers[code], True
    return own, False


def parse_rules(documents) -> tuple[StoreRule, ...]:
    """`StoreRule`s from a policy's checked `rules` list (see the import reader)."""
    return tuple(_parse_rule(document) for document in documents or ())


def _parse_rule(document: dict) -> StoreRule:
    return StoreRule(
        name=document["name"],
        enabled=document.get("enabled", True) is not False,
        conditions=tuple(_parse_condition(item) for item in document.get("when") or ()),
        actions=tuple(_parse_action(item) for item in document.get("then") or ()),
    )


def _parse_condition(document: dict) -> Condition:
    name, operator, value = document["field"], document["op"], document["value"]
    if name in NUMBER_FIELDS:
        parsed = Decimal(str(value))
    elif operator == "ends_with":
        parsed = str(value).strip().casefold()
    else:
        parsed = tuple(str(item).strip().casefold() for item in value)
    return Condition(field=name, operator=operator, value=parsed, days=document.get("days"))


def _parse_action(document: dict) -> Action:
    amount = document.get("amount")
    return Action(
        type=document["action"],
        days=document.get("days"),
        message=document.get("message") or "",
        amount=None if amount is None else Decimal(str(amount)),
        destination=document.get("destination") or "",
    )


def return_count_windows(rules: tuple[StoreRule, ...]) -> frozenset[int]:
    """The `days` of every return-count condition: whether the customer's returns matter."""
    return frozenset().union(*(rule.return_count_windows for rule in rules))


def unknown_destinations(documents, supplier_codes) -> list[tuple[str, str]]:
    """`(path, code)` of each `route` action whose destination is neither `STORE` nor one
    of `supplier_codes`; paths are relative to the policy (`rules[0].then[1].destination`)."""
    known = set(supplier_codes) | {STORE_DESTINATION}
    return [
        (f"rules[{index}].then[{number}].destination", action.get("destination"))
        for index, rule in enumerate(documents or ())
        for number, action in enumerate((rule or {}).get("then") or ())
        if (action or {}).get("action") == "route" and action.get("destination") not in known
    ]

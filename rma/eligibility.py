"""Return eligibility (docs/eligibility.md) as pure functions: rows in, reasons out.

Nothing here queries the database. `rma.selectors.order_for_eligibility` fetches
an order with everything these functions read: the store, the lines with their
`held_quantity` annotation, every override of each line (`line.all_overrides`), and
when the customer's earlier returns were requested (`order.customer_return_moments`,
for store rules on the return count).

The store's rules (`policies.rules`, docs/console.md) are evaluated here too: a rule may
extend a line's window, or block it with RMA 1024; their other decisions (review, fee,
keep, route) ride along in `LineEligibility.decision` for the request service and the
money estimate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from zoneinfo import ZoneInfo

from policies.rules import NO_DECISION, LineDecision, LineFacts, decide

from .errors import DESCRIPTIONS
from .policy import StorePolicy


class Overrider(Enum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


# Permission codenames (app label "rma") that allow overriding, by who may override.
OVERRIDE_PERMISSIONS = {
    Overrider.AGENT: ("rma.override_ineligibility", "rma.override_any_ineligibility"),
    Overrider.SUPERVISOR: ("rma.override_any_ineligibility",),
}


@dataclass(frozen=True)
class Rule:
    code: str
    order_level: bool
    overridable_by: Overrider | None

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self.code]


RULES = {
    rule.code: rule
    for rule in (
        Rule("RMA 1006", order_level=False, overridable_by=Overrider.AGENT),
        Rule("RMA 1007", order_level=False, overridable_by=None),
        Rule("RMA 1008", order_level=True, overridable_by=None),
        Rule("RMA 1015", order_level=True, overridable_by=Overrider.SUPERVISOR),
        Rule("RMA 1016", order_level=False, overridable_by=Overrider.SUPERVISOR),
        Rule("RMA 1017", order_level=True, overridable_by=Overrider.SUPERVISOR),
        Rule("RMA 1019", order_level=False, overridable_by=Overrider.SUPERVISOR),
        Rule("RMA 1020", order_level=False, overridable_by=Overrider.SUPERVISOR),
        Rule("RMA 1024", order_level=False, overridable_by=Overrider.SUPERVISOR),
    )
}


def can_override(user, code: str) -> bool:
    """Whether `user` holds a permission that overrides `code` (never 1007 or 1008)."""
    rule = RULES.get(code)
    if rule is None or rule.overridable_by is None:
        return False
    return any(user.has_perm(perm) for perm in OVERRIDE_PERMISSIONS[rule.overridable_by])


@dataclass(frozen=True)
class LineEligibility:
    line: object
    ordered_quantity: int
    returnable_quantity: int
    # Rules that fail and are not overridden, in code order.
    failures: tuple[Rule, ...]
    # Rules that fail but an unexpired override removes.
    overridden: tuple[Rule, ...]
    last_return_moment: dt.datetime
    # What the store's rules decided for this line, each decision naming its rule.
    decision: LineDecision = NO_DECISION

    @property
    def eligible(self) -> bool:
        return not self.failures

    @property
    def line_number(self) -> int:
        return self.line.line_number

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(rule.code for rule in self.failures)


def reference_moment(*, order, line) -> dt.datetime:
    """The moment the return window starts from: delivery, else shipping, else placing."""
    return line.delivered_at or order.delivered_at or order.shipped_at or order.placed_at


def last_return_moment(
    *, order, line, policy: StorePolicy, timezone: str, extra_days: int = 0
) -> dt.datetime:
    """End of the day (store timezone) of the reference date plus the window (and any days
    a store rule adds)."""
    return _end_of_day_after(
        reference_moment(order=order, line=line), policy.return_window_days + extra_days, timezone
    )


@lru_cache(maxsize=4096)
def _end_of_day_after(moment: dt.datetime, days: int, timezone: str) -> dt.datetime:
    # Cached: an order's lines mostly share their reference moment, and the time zone
    # arithmetic was a third of evaluating a line.
    zone = ZoneInfo(timezone)
    last_day = moment.astimezone(zone).date() + dt.timedelta(days=days)
    return dt.datetime.combine(last_day, dt.time.max, tzinfo=zone)


def order_level_codes(*, order, policy: StorePolicy) -> list[str]:
    """Codes that fail for the whole order (reported on every line)."""
    codes = []
    if order.status not in policy.returnable_statuses:
        codes.append("RMA 1008")
    address = order.shipping_address or {}
    country = (address.get("country") or "").strip().upper()
    if policy.allowed_countries and country not in policy.allowed_countries:
        codes.append("RMA 1015")
    state = (address.get("state") or "").strip().casefold()
    if state and state in policy.excluded_states:
        codes.append("RMA 1017")
    return codes


def line_level_codes(
    *, order, line, policy: StorePolicy, returnable_quantity: int, last_moment, now
) -> list[str]:
    codes = []
    if now > last_moment:
        codes.append("RMA 1006")
    if returnable_quantity <= 0:
        codes.append("RMA 1007")
    if line.hazmat and not policy.hazmat_returnable:
        codes.append("RMA 1016")
    if line.final_sale or line.item_id in policy.excluded_items:
        codes.append("RMA 1019")
    if (line.department or "").strip().casefold() in policy.excluded_departments:
        codes.append("RMA 1020")
    return codes


def is_override_active(override, now) -> bool:
    return override.expires_at is None or override.expires_at > now


def evaluate_line(
    *,
    order,
    line,
    policy: StorePolicy,
    timezone: str,
    held_quantity: int,
    overrides,
    now: dt.datetime,
    order_codes: list[str] | None = None,
    decision: LineDecision = NO_DECISION,
) -> LineEligibility:
    """Every eligibility rule for one line; overrides remove overridable codes.

    `decision`: the store rules' decision for the line (`rule_decisions`): its window
    extension moves the last day, its block adds RMA 1024.
    """
    if order_codes is None:
        order_codes = order_level_codes(order=order, policy=policy)
    returnable_quantity = max(line.quantity - held_quantity, 0)
    last_moment = last_return_moment(
        order=order,
        line=line,
        policy=policy,
        timezone=timezone,
        extra_days=decision.extension_days,
    )
    if decision.block is not None:
        order_codes = [*order_codes, "RMA 1024"]
    codes = set(order_codes) | set(
        line_level_codes(
            order=order,
            line=line,
            policy=policy,
            returnable_quantity=returnable_quantity,
            last_moment=last_moment,
            now=now,
        )
    )
    failures, overridden = _sorted_out(codes, overrides, now) if codes else ((), ())
    return LineEligibility(
        line=line,
        ordered_quantity=line.quantity,
        returnable_quantity=returnable_quantity,
        failures=failures,
        overridden=overridden,
        last_return_moment=last_moment,
        decision=decision,
    )


def _sorted_out(codes: set[str], overrides, now) -> tuple[tuple[Rule, ...], tuple[Rule, ...]]:
    """The failing rules, in code order: those no active override removes, and those one
    does."""
    overridden_codes = {
        override.code for override in overrides if is_override_active(override, now)
    }
    failures, overridden = [], []
    for code in sorted(codes):
        rule = RULES[code]
        if rule.overridable_by is not None and code in overridden_codes:
            overridden.append(rule)
        else:
            failures.append(rule)
    return tuple(failures), tuple(overridden)


def line_amount(line) -> Decimal:
    """What the line cost the customer: price x quantity - discount + tax."""
    return line.unit_price * line.quantity - (line.discount or 0) + (line.tax or 0)


def rule_facts(
    *,
    order,
    line,
    order_total: Decimal,
    now: dt.datetime,
    reason: str | None = None,
    channel: str | None = None,
    return_moments=(),
    customer_tags=(),
) -> LineFacts:
    """What a store rule may look at for one line (`policies.rules.LineFacts`)."""
    return LineFacts(
        order_total=order_total,
        line_amount=line_amount(line),
        department=line.department or "",
        item_id=line.item_id,
        customer_email=order.customer_email or "",
        country=((order.shipping_address or {}).get("country") or "").strip().upper(),
        # The order's own (`Order.customer_tags`, from the import) unless given.
        customer_tags=tuple(customer_tags) or _tags(order),
        reason=reason,
        channel=channel,
        return_moments=tuple(return_moments),
        now=now,
    )


def rule_decisions(
    order,
    lines,
    *,
    policy: StorePolicy,
    now: dt.datetime,
    channel: str | None = None,
    reasons: dict[int, str] | None = None,
    rules=None,
) -> dict[int, LineDecision]:
    """The store rules' decision for each line, by line number (no queries).

    `reasons` (line number → reason code) and `channel` are known when a return is
    requested, not on the order page: conditions on them hold only when given.
    `rules`: a draft's rules instead of the policy's (previews, the simulator).
    """
    rules = policy.rules if rules is None else rules
    if not rules:
        return {}
    order_total = sum((line_amount(line) for line in lines), Decimal(0))
    moments = getattr(order, "customer_return_moments", None) or ()
    reasons = reasons or {}
    return {
        line.line_number: decide(
            rules,
            rule_facts(
                order=order,
                line=line,
                order_total=order_total,
                now=now,
                reason=reasons.get(line.line_number),
                channel=channel,
                return_moments=moments,
            ),
        )
        for line in lines
    }


def _tags(order) -> tuple[str, ...]:
    """The order's customer tags (`Order.customer_tags`, from the import), as texts."""
    tags = getattr(order, "customer_tags", None) or ()
    return tuple(str(tag) for tag in tags if isinstance(tag, str))


def evaluate_order(
    order,
    *,
    now: dt.datetime,
    channel: str | None = None,
    reasons: dict[int, str] | None = None,
    policy: StorePolicy | None = None,
) -> list[LineEligibility]:
    """Eligibility of every line of an order fetched by `order_for_eligibility`.

    `channel` and `reasons` (line number → reason code), when known, let store rules on
    them decide; `policy`: a draft policy instead of the store's (previews).
    """
    store = order.store
    policy = policy or StorePolicy.of(store)
    order_codes = order_level_codes(order=order, policy=policy)
    lines = order.lines.all()
    decisions = rule_decisions(
        order, lines, policy=policy, now=now, channel=channel, reasons=reasons
    )
    return [
        evaluate_line(
            order=order,
            line=line,
            policy=policy,
            timezone=store.timezone,
            held_quantity=line.held_quantity,
            overrides=line.all_overrides,
            now=now,
            order_codes=order_codes,
            decision=decisions.get(line.line_number, NO_DECISION),
        )
        for line in lines
    ]

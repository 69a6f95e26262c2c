"""Creating RMAs: the one request service behind the portal, the API and agents."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rma import followups
from rma.eligibility import evaluate_order
from rma.errors import LineFailure, RequestError, RmaError, TransitionError
from rma.estimates import request_groups, units_returned
from rma.models import (
    Condition,
    LabelStatus,
    Order,
    Resolution,
    Rma,
    RmaLine,
    RmaPhoto,
    RmaStatus,
)
from rma.numbers import new_rma_number
from rma.policy import StorePolicy
from rma.selectors import orders_for_eligibility
from rma.transitions import EVENT_FOR_STATUS, is_allowed
from rma.webhooks import webhook_endpoints

from .actors import Actor
from .events import record_event
from .exchanges import exchange_quotes, exchange_reserve_lines, exchange_status_changed
from .rma_resolve import rma_resolve_kept


@dataclass(frozen=True)
class RequestedLine:
    line_number: int
    quantity: int
    reason_code: str
    comment: str = ""
    # The API names the SKU too; when given it must match the line (else RMA 1005).
    item_id: str | None = None
    photos: Sequence = field(default_factory=tuple)
    # The caller's own words for the reason (the API's `returnReason`), kept with the line.
    reason_category: str = ""
    reason_description: str = ""
    # The variant (SKU) wanted instead, when the resolution is EXCHANGE (catalogue app).
    exchange_item_id: str = ""
    # Its price per unit, when known (the estimate refunds a cheaper variant's difference).
    exchange_unit_price: Decimal | None = None


@dataclass(frozen=True)
class RequestContext:
    """Where a request comes from, as an order system names it (Radial's fields)."""

    order_type: str = ""
    store_type: str = ""
    source_name: str = ""
    source_location_id: str = ""
    return_type: str = ""

    def fields(self) -> dict[str, str]:
        """The `Rma` fields, cut to their column length."""
        return {
            name: (getattr(self, name) or "")[: Rma._meta.get_field(name).max_length]
            for name in CONTEXT_FIELDS
        }


CONTEXT_FIELDS = ("order_type", "store_type", "source_name", "source_location_id", "return_type")


def _line_failures(requested: RequestedLine, verdict) -> list[LineFailure]:
    number = requested.line_number
    if verdict is None or (
        requested.item_id is not None and requested.item_id != verdict.line.item_id
    ):
        return [LineFailure(number, "RMA 1005")]
    failures = [LineFailure(number, code) for code in verdict.codes]
    over_limit = requested.quantity <= 0 or requested.quantity > verdict.returnable_quantity
    if over_limit and "RMA 1007" not in verdict.codes:
        failures.append(LineFailure(number, "RMA 1007"))
    return failures


def _check_choices(
    *, policy: StorePolicy, lines, resolution: str, channel: str, unconfigured_reasons: bool
) -> None:
    if resolution not in policy.resolutions:
        raise RequestError(
            f"Resolution {resolution!r} is not offered by this store.", field="resolution"
        )
    numbers = [line.line_number for line in lines]
    if len(set(numbers)) != len(numbers):
        raise RequestError("Each order line may be requested only once.", field="lines")
    for line in lines:
        if line.exchange_item_id and resolution != Resolution.EXCHANGE:
            raise RequestError(
                "An item to exchange for can be chosen only with the EXCHANGE resolution.",
                field=f"line-{line.line_number}-exchange",
            )
        reason = policy.reason(line.reason_code)
        if reason is None and unconfigured_reasons:
            continue  # taken as the caller describes it: not seller fault, no review
        if reason is None:
            raise RequestError(
                f"Reason {line.reason_code!r} is not one of this store's reasons.",
                field=f"line-{line.line_number}-reason",
            )
        # Photos are asked of shoppers; agents and API callers describe the goods in comments.
        if reason.requires_photo and channel == "PORTAL" and not line.photos:
            raise RequestError(
                "A photo is required for this reason.", field=f"line-{line.line_number}-photo"
            )


def _lock_and_evaluate(
    order: Order, now: dt.datetime, *, channel: str | None = None, reasons=None
) -> tuple[Order, dict]:
    """Lock the order row (serialising concurrent requests) and evaluate it afresh.

    The order is read by the locking query itself; its lines are read after the lock is
    held, so they include what a request that held it before has committed. `of`: the
    order's row only, not its store's, so requests for other orders go on.
    """
    fresh = orders_for_eligibility().select_for_update(of=("self",)).get(pk=order.pk)
    # The channel and the reasons chosen let the store's rules on them decide (RMA 1024,
    # review; docs/console.md).
    verdicts = evaluate_order(fresh, now=now, channel=channel, reasons=reasons)
    return fresh, {verdict.line_number: verdict for verdict in verdicts}


def _check_reasons_fit(*, policy: StorePolicy, lines, verdicts) -> None:
    """A reason limited to some departments is refused for a line of another one."""
    for requested in lines:
        verdict = verdicts.get(requested.line_number)
        reason = policy.reason(requested.reason_code)
        if verdict is None or reason is None or reason.fits(verdict.line.department):
            continue
        department = verdict.line.department or "no department"
        raise RequestError(
            f"Reason {reason.description!r} does not apply to line {requested.line_number} "
            f"({department}).",
            field=f"line-{requested.line_number}-reason",
        )


def _rules_applied(lines, verdicts) -> dict:
    """The store rules that decided something for these lines, for the audit trail."""
    applied = [
        {"line_number": requested.line_number, "decisions": decision.summary()}
        for requested in lines
        for decision in [verdicts[requested.line_number].decision]
        if decision.fired
    ]
    return {"rules": applied} if applied else {}


def rma_request(
    *,
    order: Order,
    lines: Sequence[RequestedLine],
    resolution: str,
    actor: Actor,
    channel: str,
    comment: str = "",
    transaction_id: str = "",
    event_data: dict | None = None,
    now: dt.datetime | None = None,
    savepoint: bool = True,
    context: RequestContext | None = None,
    items_received: bool = False,
    unconfigured_reasons: bool = False,
) -> list[Rma]:
    """Request a return of some lines of an order; one RMA per return destination.

    Every line is checked against eligibility (docs/eligibility.md) under a lock on the order,
    and every failure is reported at once as `RmaError` with `items`. Each RMA is
    AUTHORIZED at once unless one of its reasons (or a store rule) requires review. Store
    rules may also route a line to another destination, keep it (an RMA of kept lines is
    resolved at once, without a label) or set the RMA's return fee; the decisions that
    shaped each RMA are stored on it (`rule_decisions`, docs/console.md). Follow-up work (label,
    emails, webhooks) is scheduled to run after commit. `event_data` (the channel's own
    details, e.g. the API caller's source) joins each `rma.created` event.

    Each RMA comes back with its supplier and its lines (with their order lines), so
    `rma.lines.all()` runs no query. `savepoint=False` for a caller whose own transaction
    rolls back whenever this raises (the API): the SAVEPOINT and its RELEASE are saved.

    `context`: the order system's description of the request, stored on each RMA.
    `unconfigured_reasons`: a reason code the store has not configured is accepted (the
    API: an order system's own codes) and treated as not seller fault, without review.
    `items_received`: the goods are already in the store's hands (a return taken at a
    counter): each RMA is authorized and received at once (events `rma.authorized` and
    `rma.received`, through the lifecycle's allowed moves), every line received in full
    and `UNINSPECTED`, no label; the shopper gets the "received" email instead of a
    confirmation.
    """
    now = now or timezone.now()
    event_data = event_data or {}
    if not lines:
        raise RequestError("Choose at least one item to return.", field="lines")
    policy = StorePolicy.of(order.store)
    _check_choices(
        policy=policy,
        lines=lines,
        resolution=resolution,
        channel=channel,
        unconfigured_reasons=unconfigured_reasons,
    )
    with transaction.atomic(savepoint=savepoint):
        order, verdicts = _lock_and_evaluate(
            order,
            now,
            channel=channel,
            reasons={line.line_number: line.reason_code for line in lines},
        )
        _check_reasons_fit(policy=policy, lines=lines, verdicts=verdicts)

        failures = [
            failure
            for requested in lines
            for failure in _line_failures(requested, verdicts.get(requested.line_number))
        ]
        # Exchanges are checked only on lines that are otherwise fine (one query each).
        failing = {failure.line_number for failure in failures}
        quotes, refusals = exchange_quotes(
            lines=[line for line in lines if line.line_number not in failing], verdicts=verdicts
        )
        failures += [failure for refusal in refusals for failure in refusal.items]
        # The estimate prices each exchange at its variant's price (no query: quoted).
        lines = [
            replace(line, exchange_unit_price=quotes[line.line_number].variant.price)
            if line.line_number in quotes
            else line
            for line in lines
        ]
        if failures:
            first_code = min(failures, key=lambda f: f.code != "RMA 1005").code
            detail = "; ".join(refusal.detail for refusal in refusals if refusal.detail)
            raise RmaError(first_code, items=failures, detail=detail)

        # One RMA per destination; lines the shopper may keep in an RMA of their own.
        parts = request_groups(
            lines=lines,
            order_lines={number: verdict.line for number, verdict in verdicts.items()},
            resolution=resolution,
            policy=policy,
            currency=order.store.currency,
            already=units_returned(verdicts[line.line_number].line.pk for line in lines),
            split_kept=not items_received,
            # The store rules' route, keep and fee decisions (docs/console.md).
            decisions={number: verdict.decision for number, verdict in verdicts.items()},
            store=order.store,
        )

        group = uuid.uuid4()
        endpoints = webhook_endpoints(store_id=order.store_id)  # once for every event
        rmas = [
            _create_rma(
                order=order,
                policy=policy,
                supplier=part.supplier,
                lines=list(part.lines),
                kept=part.estimate if part.kept else None,
                rule_decisions=list(part.rule_decisions),
                verdicts=verdicts,
                resolution=resolution,
                actor=actor,
                channel=channel,
                comment=comment,
                transaction_id=transaction_id,
                group=group,
                event_data=event_data,
                endpoints=endpoints,
                now=now,
                context=context or RequestContext(),
                items_received=items_received,
                quotes=quotes,
            )
            for part in parts
        ]
        followups.request_created(rmas=rmas)
        return rmas


def _create_rma(
    *,
    order,
    policy,
    supplier,
    lines,
    verdicts,
    resolution,
    actor,
    channel,
    comment,
    transaction_id,
    group,
    event_data,
    endpoints,
    now,
    context,
    items_received,
    quotes,
    kept=None,
    rule_decisions=(),
) -> Rma:
    # Goods taken at a counter are in hand: nothing left to review before receipt (an
    # agent sees the reason when resolving), so they are authorized and then received.
    needs_review = not items_received and (
        any(
            reason.requires_review
            for reason in (policy.reason(line.reason_code) for line in lines)
            if reason is not None
        )
        # A store rule may ask for review too (docs/console.md).
        or any(verdicts[line.line_number].decision.requires_review for line in lines)
    )
    authorized = RmaStatus.AUTHORIZED
    status = RmaStatus.REQUESTED if needs_review else authorized
    if items_received:
        # Created authorized, then received: the lifecycle's own move, checked as such.
        if not is_allowed(authorized, RmaStatus.RECEIVED):
            raise TransitionError(
                rma_number="", from_status=authorized, to_status=RmaStatus.RECEIVED
            )
        status = RmaStatus.RECEIVED
    # Kept items are not sent back: no label.
    label_status = (
        LabelStatus.NOT_REQUIRED
        if items_received or kept is not None or settings.LABEL_SERVICE == "none"
        else LabelStatus.PENDING
    )
    rma = Rma.objects.create(
        store=order.store,
        order=order,
        rma_number=_unused_rma_number(),
        status=status,
        resolution=resolution,
        supplier=supplier,
        label_status=label_status,
        channel=channel,
        request_group=group,
        transaction_id=transaction_id,
        customer_comment=comment,
        authorized_at=None if needs_review else now,
        expires_at=None if needs_review else now + dt.timedelta(days=policy.rma_expiry_days),
        received_at=now if items_received else None,
        rule_decisions=list(rule_decisions),
        **context.fields(),
    )
    rma_lines = RmaLine.objects.bulk_create(
        [
            RmaLine(
                rma=rma,
                order_line=verdicts[requested.line_number].line,
                quantity=requested.quantity,
                reason_code=requested.reason_code,
                reason_category=requested.reason_category[:REASON_CATEGORY_LENGTH],
                reason_description=requested.reason_description[:REASON_DESCRIPTION_LENGTH],
                customer_comment=requested.comment,
                received_quantity=requested.quantity if items_received else None,
                condition=Condition.UNINSPECTED if items_received else "",
                # The exchange asked for; the agent resolving the return sees it.
                replacement_item_id=(
                    quotes[requested.line_number].variant.item_id
                    if requested.line_number in quotes
                    else ""
                ),
            )
            for requested in lines
        ]
    )
    # The stock, under the variants' row locks; a refusal (the last unit went meanwhile)
    # undoes the whole request.
    exchange_reserve_lines(rma_lines=rma_lines, quotes=quotes)
    photos = [
        RmaPhoto(rma_line=rma_line, image=photo, content_type=getattr(photo, "content_type", ""))
        for rma_line, requested in zip(rma_lines, lines, strict=True)
        for photo in requested.photos
    ]
    for photo in photos:
        photo.save()  # one by one: saving stores the uploaded file
    _cache_lines(rma, rma_lines)
    record_event(
        rma=rma,
        type="rma.created",
        actor=actor,
        data={
            "channel": channel,
            "status": status,
            "resolution": resolution,
            "lines": [
                {
                    "line_number": line.line_number,
                    "quantity": line.quantity,
                    "reason": line.reason_code,
                    **(
                        {"exchange_item_id": quotes[line.line_number].variant.item_id}
                        if line.line_number in quotes
                        else {}
                    ),
                }
                for line in lines
            ],
            **_overrides_applied(lines, verdicts),
            **_rules_applied(lines, verdicts),
            # The decisions that shaped this RMA, each with its rule (fee, keep, route...).
            **({"rule_decisions": list(rule_decisions)} if rule_decisions else {}),
            **event_data,
        },
        endpoints=endpoints,
    )
    if status != RmaStatus.REQUESTED:
        record_event(
            rma=rma,
            type=EVENT_FOR_STATUS[authorized],
            actor=Actor.system("return policy"),
            data={"from": None, "to": authorized, "automatic": True},
            endpoints=endpoints,
        )
    if items_received:
        record_event(
            rma=rma,
            type=EVENT_FOR_STATUS[RmaStatus.RECEIVED],
            actor=actor,
            data={
                "from": authorized,
                "to": RmaStatus.RECEIVED,
                "at_counter": True,
                "short": False,
                "lines": [
                    {
                        "line_number": line.order_line.line_number,
                        "item_id": line.order_line.item_id,
                        "quantity": line.quantity,
                        "received_quantity": line.received_quantity,
                        "condition": line.condition,
                        "disposition": line.disposition,
                    }
                    for line in rma.lines.all()
                ],
            },
            endpoints=endpoints,
        )
    if any(line.order_line.line_number in quotes for line in rma_lines):
        # Received at a counter, or authorized in a store whose replacements go at once.
        exchange_status_changed(rma=rma, to_status=status, actor=actor)
    if kept is not None and status == authorized:
        # Nothing to send back: resolved at once, the money as at any resolution.
        rma_resolve_kept(
            rma=rma,
            actor=Actor.system("return policy"),
            estimate=_keyed_by_rma_line(kept, rma_lines),
            endpoints=endpoints,
            now=now,
        )
    return rma


def _keyed_by_rma_line(estimate, rma_lines):
    """The request's estimate (keyed by line number) keyed by the RMA lines' ids."""
    ids = {line.order_line.line_number: line.pk for line in rma_lines}
    return replace(
        estimate, lines=tuple(replace(line, key=ids[line.key]) for line in estimate.lines)
    )


REASON_CATEGORY_LENGTH = RmaLine._meta.get_field("reason_category").max_length
REASON_DESCRIPTION_LENGTH = RmaLine._meta.get_field("reason_description").max_length


def _cache_lines(rma: Rma, rma_lines: list[RmaLine]) -> None:
    """Keep the lines just written as `rma.lines.all()`, as a prefetch would (in the order
    of `rma.selectors.rma_lines_queryset`), so the caller can answer without reading them."""
    lines = rma.lines.all()
    lines._result_cache = sorted(rma_lines, key=lambda line: line.order_line.line_number)
    rma._prefetched_objects_cache = {"lines": lines}


def _overrides_applied(lines, verdicts) -> dict:
    """The agents' overrides that made these lines returnable, for the audit trail."""
    applied = [
        {
            "line_number": requested.line_number,
            "code": override.code,
            "agent": override.agent_id,
            "justification": override.justification,
        }
        for requested in lines
        for override in verdicts[requested.line_number].line.all_overrides
        if override.code in {rule.code for rule in verdicts[requested.line_number].overridden}
    ]
    return {"overrides": applied} if applied else {}


def _unused_rma_number() -> str:
    while True:
        number = new_rma_number()
        if not Rma.objects.filter(rma_number=number).exists():
            return number

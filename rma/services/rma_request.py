"""Creating RMAs: the one request service behind the portal, the API and agents."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from rma import followups
from rma.eligibility import evaluate_order
from rma.errors import LineFailure, RequestError, RmaError, TransitionError
from rma.estimates import request_groups
from rma.models import (
    Condition,
    LabelStatus,
    Order,
    OrderLine,
    Resolution,
    Rma,
    RmaLine,
    RmaPhoto,
    RmaStatus,
)
from rma.numbers import new_rma_number, retry_if_number_taken
from rma.policy import StorePolicy
from rma.prepared import Prepared, insert
from rma.selectors import customer_return_moments, order_lines_for_eligibility
from rma.transitions import EVENT_FOR_STATUS, is_allowed
from rma.webhooks import active_endpoints_of_store

from .actors import Actor
from .events import NewEvent, record_events
from .exchanges import exchange_quotes, exchange_reserve_lines, exchange_status_changed
from .rma_receive import received_line_data
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


def _orders_locked() -> QuerySet[Order]:
    """Orders read by the locking statement itself, with their store, the customer's
    return moments and the store's active webhook endpoints. `of`: the order's row only,
    not its store's, so requests for other orders go on."""
    return (
        Order.objects.select_related("store")
        .annotate(
            customer_return_moments=customer_return_moments(),
            # Every event of the request is offered to them.
            active_webhook_endpoints=active_endpoints_of_store(),
        )
        .select_for_update(of=("self",))
    )


def _returned_quantity() -> Coalesce:
    """Units of the outer query's order line that RESOLVED RMAs took back (the estimates'
    `already`): a correlated subquery on the RMA lines' index, as the held quantity is."""
    rows = (
        RmaLine.objects.filter(order_line=OuterRef("pk"), rma__status=RmaStatus.RESOLVED)
        .order_by()
        .values("order_line")
        .annotate(returned=Sum(Coalesce("received_quantity", 0)))
        .values("returned")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


# Compiled once per process (rma/prepared.py): a request's reads of its order under lock.
_LOCKED_ORDER = Prepared(lambda *, order_pk: _orders_locked().filter(pk=order_pk), order_pk=int)
_LOCKED_ORDER_BY_NUMBER = Prepared(
    lambda *, store_id, order_id: _orders_locked().filter(store_id=store_id, order_id=order_id),
    store_id=int,
    order_id=str,
)
# Eligibility's lines, with the units earlier returns took, in one statement.
_LINES_FOR_REQUEST = Prepared(
    lambda *, order_pk: (
        order_lines_for_eligibility()
        .annotate(returned_quantity=_returned_quantity())
        .filter(order_id=order_pk)
    ),
    order_pk=int,
)


def order_for_request(*, store, order_id: str) -> Order | None:
    """A store's order by its number, locked for a return request and read afresh: pass
    it to `rma_request` with `locked=True` in the same transaction. Two queries (one when
    there is no such order)."""
    found = _LOCKED_ORDER_BY_NUMBER.run(store_id=store.pk, order_id=order_id)
    return _with_request_lines(found[0]) if found else None


def _with_request_lines(order: Order) -> Order:
    """The order's lines read after its lock is held, so they include what a request that
    held it before has committed; kept as `order.lines.all()`, as a prefetch leaves them."""
    lines = _LINES_FOR_REQUEST.run(order_pk=order.pk)
    for line in lines:
        line.order = order
    prefetched = OrderLine.objects.all()
    prefetched._result_cache = lines
    prefetched._prefetch_done = True
    order._prefetched_objects_cache = {OrderLine.order.field.remote_field.cache_name: prefetched}
    return order


def _lock(order: Order) -> Order:
    """`order` locked and read afresh, with its lines."""
    [fresh] = _LOCKED_ORDER.run(order_pk=order.pk)
    return _with_request_lines(fresh)


def _evaluate(order: Order, now: dt.datetime, *, channel: str | None = None, reasons=None):
    """Each line's verdict by line number. The channel and the reasons chosen let the
    store's rules on them decide (RMA 1024, review; docs/console.md)."""
    verdicts = evaluate_order(order, now=now, channel=channel, reasons=reasons)
    return {verdict.line_number: verdict for verdict in verdicts}


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
    locked: bool = False,
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
    rolls back whenever this raises (the API): the SAVEPOINT and its RELEASE are saved;
    such a caller runs its transaction again when an RMA number drawn was taken
    (`rma.numbers.retry_if_number_taken`), as this function does otherwise. `locked`: the
    caller read `order` with `order_for_request` in that transaction, so it is not read
    again.

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

    def attempt() -> list[Rma]:
        with transaction.atomic(savepoint=savepoint):
            fresh = (
                order if locked else _with_request_lines(_LOCKED_ORDER.run(order_pk=order.pk)[0])
            )
            return _request_locked(
                order=fresh,
                policy=policy,
                lines=lines,
                resolution=resolution,
                actor=actor,
                channel=channel,
                comment=comment,
                transaction_id=transaction_id,
                event_data=event_data or {},
                now=now,
                context=context or RequestContext(),
                items_received=items_received,
            )

    if not savepoint and transaction.get_connection().in_atomic_block:
        return attempt()  # the caller's transaction, the caller's retry
    return retry_if_number_taken(attempt)


def _request_locked(
    *,
    order,
    policy,
    lines,
    resolution,
    actor,
    channel,
    comment,
    transaction_id,
    event_data,
    now,
    context,
    items_received,
) -> list[Rma]:
    """`rma_request` once the order is locked and read with its lines."""
    verdicts = _evaluate(
        order, now, channel=channel, reasons={line.line_number: line.reason_code for line in lines}
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
        # Read with the lines (`_LINES_FOR_REQUEST`).
        already={verdict.line.pk: verdict.line.returned_quantity for verdict in verdicts.values()},
        split_kept=not items_received,
        # The store rules' route, keep and fee decisions (docs/console.md).
        decisions={number: verdict.decision for number, verdict in verdicts.items()},
        store=order.store,
    )

    group = uuid.uuid4()
    endpoints = order.active_webhook_endpoints  # read with the order, for every event
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
            context=context,
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
    rma = Rma(
        store=order.store,
        order=order,
        # Drawn at random; a taken one fails the insert (unique) and the request runs again.
        rma_number=new_rma_number(),
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
    insert([rma])
    rma_lines = insert(
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
    created = NewEvent(
        "rma.created",
        actor,
        {
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
    )
    record_events(
        rma=rma,
        events=[created, *_status_events(rma, status=status, actor=actor)],
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


def _status_events(rma: Rma, *, status: str, actor: Actor) -> list[NewEvent]:
    """The moves a new RMA made at once: authorized by the policy, received at a counter."""
    authorized = RmaStatus.AUTHORIZED
    events = []
    if status != RmaStatus.REQUESTED:
        events.append(
            NewEvent(
                EVENT_FOR_STATUS[authorized],
                Actor.system("return policy"),
                {"from": None, "to": authorized, "automatic": True},
            )
        )
    if status == RmaStatus.RECEIVED:
        events.append(
            NewEvent(
                EVENT_FOR_STATUS[RmaStatus.RECEIVED],
                actor,
                {
                    "from": authorized,
                    "to": RmaStatus.RECEIVED,
                    "at_counter": True,
                    "short": False,
                    # The same line shape as a parcel scanned at the warehouse.
                    "lines": [received_line_data(line) for line in rma.lines.all()],
                },
            )
        )
    return events


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

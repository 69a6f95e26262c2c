"""Reads: each selector fetches what one screen or operation needs in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from functools import cache

from django.db.models import (
    Aggregate,
    Case,
    DateTimeField,
    FilteredRelation,
    IntegerField,
    JSONField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce, JSONObject, Upper
from django.utils.dateparse import parse_datetime

from .apikeys import accepted_key, key_prefix, stores_with_key
from .models import ApiKey, EligibilityOverride, Order, OrderLine, Rma, RmaLine, RmaStatus, Store
from .numbers import normalise_rma_number
from .prepared import Prepared

# RMAs in these states hold their requested quantity; RESOLVED ones hold what was received.
HOLDING_STATUSES = (RmaStatus.REQUESTED, RmaStatus.AUTHORIZED, RmaStatus.RECEIVED)
RELEASED_STATUSES = (RmaStatus.REJECTED, RmaStatus.CANCELLED, RmaStatus.EXPIRED)


# Expressions below are built once: a query copies an expression when it resolves it, and
# building one again on every request cost about as much as the round trip it saves.


@cache
def held_quantity_expression(prefix: str = "rma_lines__"):
    """Sum of the quantity this line's RMAs hold (rule 1007, docs/eligibility.md)."""
    return Coalesce(
        Sum(
            Case(
                When(
                    **{f"{prefix}rma__status__in": HOLDING_STATUSES},
                    then=f"{prefix}quantity",
                ),
                When(
                    **{f"{prefix}rma__status": RmaStatus.RESOLVED},
                    then=Coalesce(f"{prefix}received_quantity", 0),
                ),
                default=0,
                output_field=IntegerField(),
            )
        ),
        0,
    )


class JSONArrayAgg(Aggregate):
    """The group's values as one JSON array: SQL's JSON_ARRAYAGG, by its name on each backend."""

    function = "JSON_ARRAYAGG"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_AGG", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)


OVERRIDE_FIELDS = EligibilityOverride._meta.concrete_fields


class OverridesField(JSONField):
    """A JSON array of override rows, read back as `EligibilityOverride`s, newest first."""

    def from_db_value(self, value, expression, connection):
        if value is None:  # most lines: no override
            return []
        rows = super().from_db_value(value, expression, connection)
        overrides = [
            EligibilityOverride.from_db(
                connection.alias,
                [field.attname for field in OVERRIDE_FIELDS],
                [_from_json(field, row[field.attname]) for field in OVERRIDE_FIELDS],
            )
            for row in rows
        ]
        return sorted(
            overrides, key=lambda override: (override.created_at, override.pk), reverse=True
        )


def _from_json(field, value):
    if value is None or not isinstance(field, DateTimeField):
        return value
    # PostgreSQL writes the offset (+00:00); SQLite the stored UTC time without one.
    moment = parse_datetime(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@cache
def overrides_of_line() -> Subquery:
    """Every override of the outer query's order line, in one column of the line's row.

    A correlated subquery rather than a join: joined, the overrides would multiply the
    RMA lines summed into `held_quantity`.
    """
    rows = (
        EligibilityOverride.objects.filter(order_line=OuterRef("pk"))
        .order_by()
        .values("order_line")
        .annotate(rows=JSONArrayAgg(JSONObject(**{f.attname: f.attname for f in OVERRIDE_FIELDS})))
        .values("rows")
    )
    return Subquery(rows, output_field=OverridesField())


@cache
def held_quantity_of_line() -> Coalesce:
    """`held_quantity_expression` as a correlated subquery on the outer query's order line.

    Rather than joined and grouped: PostgreSQL runs it from the RMA lines' index on the
    order line (12 % faster for an order of 100 lines), and the line's row needs no GROUP BY.
    """
    rows = (
        RmaLine.objects.filter(order_line=OuterRef("pk"))
        .order_by()
        .values("order_line")
        .annotate(held=held_quantity_expression(prefix=""))
        .values("held")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def order_lines_for_eligibility() -> QuerySet[OrderLine]:
    """Lines with their supplier, held quantity and overrides (`all_overrides`): one query."""
    return (
        OrderLine.objects.select_related("supplier")
        .annotate(held_quantity=held_quantity_of_line(), all_overrides=overrides_of_line())
        .order_by("line_number")
    )


class MomentsField(JSONField):
    """A JSON array of timestamps, read back as aware datetimes."""

    def from_db_value(self, value, expression, connection):
        rows = super().from_db_value(value, expression, connection) or []
        return tuple(_from_json(Rma._meta.get_field("created_at"), row) for row in rows)


@cache
def customer_return_moments(
    *, store: str = "store", email: str = "customer_email", policy: str = "store__policy"
) -> Case:
    """When the outer order's customer (same store, email in any case) requested returns.

    For store rules on the customer's return count in the last N days (`policies.rules`):
    read in the order's own row, so the rules add no query; only for stores whose policy
    has rules (the CASE leaves the subquery unrun for the others). `store`, `email` and
    `policy` name the order's store, its customer's email and the store's policy in the
    outer query (a query of orders by default).
    """
    rows = (
        Rma.objects.annotate(customer_email_upper=Upper("order__customer_email"))
        .filter(
            store=OuterRef(store),
            customer_email_upper=Upper(OuterRef(email)),
        )
        .order_by()
        .values("store")
        .annotate(rows=JSONArrayAgg("created_at"))
        .values("rows")
    )
    return Case(
        When(**{f"{policy}__has_key": "rules"}, then=Subquery(rows)),
        default=None,
        output_field=MomentsField(),
    )


def orders_for_eligibility() -> QuerySet[Order]:
    """Orders with the store, lines, held quantities, overrides and the customer's return
    moments (`customer_return_moments`): two queries in all."""
    return (
        Order.objects.select_related("store")
        .annotate(customer_return_moments=customer_return_moments())
        .prefetch_related(Prefetch("lines", queryset=order_lines_for_eligibility()))
    )


# The two statements of `order_for_eligibility`, compiled once per process (rma/prepared.py):
# what `orders_for_eligibility().filter(...)` and its prefetch run, without building and
# compiling them on every checkEligibility.
_ORDER_FOR_ELIGIBILITY = Prepared(
    lambda *, store_id, order_id: (
        Order.objects.select_related("store")
        .annotate(customer_return_moments=customer_return_moments())
        .filter(store_id=store_id, order_id=order_id)
    ),
    store_id=int,
    order_id=str,
)
_LINES_FOR_ELIGIBILITY = Prepared(
    lambda *, order_pk: order_lines_for_eligibility().filter(order_id=order_pk), order_pk=int
)


_ORDER_FOR_ELIGIBILITY_BY_STORE_CODE = Prepared(
    lambda *, store_code, order_id: (
        Order.objects.select_related("store")
        .annotate(customer_return_moments=customer_return_moments())
        .filter(store__code=store_code, order_id=order_id)
    ),
    store_code=str,
    order_id=str,
)


def order_for_eligibility(*, store, order_id: str) -> Order | None:
    """One store's order by its number, ready for `eligibility.evaluate_order`: the same
    instances as `orders_for_eligibility().filter(store=store, order_id=order_id).first()`
    (its lines in `order.lines.all()`), in the same two queries."""
    found = _ORDER_FOR_ELIGIBILITY.run(store_id=store.pk, order_id=order_id)
    return with_eligibility_lines(found[0]) if found else None


# The store, the API key and the order in one statement: checkEligibility's first round
# trip does `api_key_authenticate`'s work and `_ORDER_FOR_ELIGIBILITY`'s.
_STORE_KEY_AND_ORDER = Prepared(
    lambda *, store_code, prefix, order_id: (
        stores_with_key(store_code=store_code, prefix=prefix)
        .annotate(
            matching_order=FilteredRelation("orders", condition=Q(orders__order_id=order_id)),
            customer_return_moments=customer_return_moments(
                store="pk", email="matching_order__customer_email", policy="policy"
            ),
        )
        .select_related("matching_order")
        .order_by("pk")[:1]
    ),
    store_code=str,
    prefix=str,
    order_id=str,
)


def store_key_and_order_for_eligibility(
    *, store_code: str, raw_key: str | None, order_id: str
) -> tuple[Store | None, ApiKey | None, Order | None]:
    """`api_key_authenticate(store_code=..., raw_key=...)` and the store's order that
    `order_for_eligibility` reads, in one query. The order comes without its lines: the
    caller reads them (`with_eligibility_lines`) and answers with it only once the key is
    accepted."""
    found = _STORE_KEY_AND_ORDER.run(
        store_code=store_code, prefix=key_prefix(raw_key), order_id=order_id
    )
    if not found:
        return None, None, None
    store = found[0]
    # select_related sets the attribute (and the order's `store`) only when it found one.
    order = getattr(store, "matching_order", None)
    if order is not None:
        order.customer_return_moments = store.customer_return_moments
    return store, accepted_key(store, raw_key), order


def order_for_eligibility_by_store_code(
    *, store_code: str, order_id: str, among: Collection[int] | None = None
) -> Order | None:
    """As `order_for_eligibility`, by the store's code; None (without reading its lines)
    when the order's id is not `among` those given."""
    found = _ORDER_FOR_ELIGIBILITY_BY_STORE_CODE.run(store_code=store_code, order_id=order_id)
    if not found or (among is not None and found[0].pk not in among):
        return None
    return with_eligibility_lines(found[0])


def with_eligibility_lines(order: Order) -> Order:
    """`order` with its lines as `orders_for_eligibility` prefetches them (one query)."""
    lines = _LINES_FOR_ELIGIBILITY.run(order_pk=order.pk)
    # What `line.order = order` does for lines that already hold its id, without the checks.
    cache_order = OrderLine.order.field.set_cached_value
    for line in lines:
        cache_order(line, order)
    # As prefetch_related leaves them: `order.lines.all()` answers from these rows.
    prefetched = OrderLine.objects.all()
    prefetched._result_cache = lines
    prefetched._prefetch_done = True
    order._prefetched_objects_cache = {OrderLine.order.field.remote_field.cache_name: prefetched}
    return order


def orders_matching_number(order_number: str) -> QuerySet[Order]:
    """Orders of any store whose number matches, trimmed and ignoring letter case."""
    return (
        Order.objects.select_related("store")
        .annotate(order_id_upper=Upper("order_id"))
        .filter(order_id_upper=order_number.strip().upper())
    )


def held_quantities(line_ids) -> dict[int, int]:
    """Held quantity per order line id, read afresh (used under row locks)."""
    rows = (
        OrderLine.objects.filter(pk__in=line_ids)
        .annotate(held_quantity=held_quantity_expression())
        .values_list("pk", "held_quantity")
    )
    return dict(rows)


def rmas_with_lines() -> QuerySet[Rma]:
    return Rma.objects.select_related("store", "order", "supplier").prefetch_related(
        Prefetch("lines", queryset=rma_lines_queryset())
    )


def rma_lines_queryset() -> QuerySet[RmaLine]:
    # With the line's exchange, if any (a left join): the estimates price it.
    return RmaLine.objects.select_related("order_line", "exchange_reservation").order_by(
        "order_line__line_number"
    )


def rma_by_number(rma_number: str) -> Rma | None:
    """An RMA by its number as typed (separators and case ignored, check character verified)."""
    canonical = normalise_rma_number(rma_number)
    if canonical is None:
        return None
    return rmas_with_lines().filter(rma_number=canonical).first()


def active_rmas_q() -> Q:
    return ~Q(status__in=RELEASED_STATUSES)

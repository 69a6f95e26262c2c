"""A few weeks of demo history: orders, and returns in every status, dated relative to now.

So that the dashboard (returns per day, reasons, items, departments, money, time to
refund) and the RMA timelines have something to show, `load_demo` adds to the demo
stores' orders about six weeks of made-up trade: orders nobody returned, and returns that
went every way the lifecycle allows, with their events at the moments they happened.

The returns are written in bulk rather than through the request, receive and resolve
services: those email the shopper, ask the carrier for a label and call webhooks after
commit, which made-up history must never do, and they date everything "now". What is
written is what the services would have written: each move an `RmaEvent` with the
services' data (an `rma.received` with the units per condition, an `rma.resolved` with
every amount), the status timestamps of the moves, amounts from the resolve path's own
function (`line_refund_breakdown`) and store credit issued through the ledger's service.
History RMAs have no label (`NOT_REQUIRED`): no carrier was ever asked.

Loading again replaces the history: the RMAs of the history orders (and their store
credit) are deleted and written anew relative to the new now, so the weeks stay recent.
Nothing else is touched: the history orders have their own numbers.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from payments.models import Refund, StoreCredit, StoreCreditEntry
from payments.services import store_credit_issue
from rma.importing import import_document
from rma.models import (
    ActorType,
    Channel,
    Condition,
    Disposition,
    LabelStatus,
    Order,
    Resolution,
    Rma,
    RmaEvent,
    RmaLine,
    RmaStatus,
    Store,
)
from rma.numbers import new_rma_number
from rma.policy import StorePolicy
from rma.services.rma_receive import CONDITION_SEVERITY, received_line_data
from rma.services.rma_resolve import AMOUNT_FIELDS, line_refund_breakdown
from rma.transitions import EVENT_FOR_STATUS, is_allowed

S = RmaStatus
R = Resolution

# What each store sells in the history: item id -> (title, department, unit price,
# weight, (length, width, height)). Items of the demo catalogue, so pictures show.
ITEMS = {
    "TMSUS": {
        "21-RITOCS004b": ('Laptop case 15"', "Accessories", "39.99", "1.2", ("16", "12", "2")),
        "21-RITOCS003b": ('Laptop case 13"', "Accessories", "34.99", "1.0", ("14", "10", "2")),
        "21-MOUSE-WL2": ("Wireless mouse", "Accessories", "24.50", "0.3", ("5", "3", "2")),
        "21-MOUSE-WL2P": ("Wireless mouse, pink", "Accessories", "22.00", "0.3", ("5", "3", "2")),
        "21-KBD-MECH": ("Mechanical keyboard", "Accessories", "129.00", "2.4", ("18", "6", "2")),
        "21-KBD-MECH-BLU": (
            "Mechanical keyboard, blue switches",
            "Accessories",
            "119.00",
            "2.4",
            ("18", "6", "2"),
        ),
        "21-SOCK-3PK": ("Socks, 3 pack (M)", "Apparel", "14.00", "0.4", ("8", "6", "1")),
        "21-SOCK-3PK-S": ("Socks, 3 pack (S)", "Apparel", "14.00", "0.4", ("8", "6", "1")),
        "21-LAMP-DSK": ("Desk lamp", "Home Office", "45.00", "3.1", ("20", "8", "8")),
        "21-CABLE-C2": ("USB-C cable", "Electronics", "12.00", "0.2", ("6", "4", "1")),
        "21-NOTE-A5": ("A5 notebook", "Stationery", "9.50", "0.5", ("9", "6", "1")),
    },
    "TMSDE": {
        "DE-WS-4411": ("Wanderschuhe, Größe 42", "Schuhe", "129.90", "1.4", ("34", "22", "13")),
        "DE-WS-4412": ("Wanderschuhe, Größe 43", "Schuhe", "129.90", "1.4", ("34", "22", "13")),
        "DE-RJ-2030": ("Regenjacke, M, rot", "Bekleidung", "89.95", "0.6", ("30", "25", "5")),
        "DE-RJ-2032": ("Regenjacke, M, blau", "Bekleidung", "79.95", "0.6", ("30", "25", "5")),
        "DE-RS-7781": ("Rucksack 30 l", "Taschen", "74.50", "1.1", ("50", "30", "20")),
        "DE-RS-7780": ("Rucksack 20 l", "Taschen", "59.50", "0.9", ("45", "28", "18")),
    },
}

# Exchanges: the variant the shopper got instead.
EXCHANGED_FOR = {
    "21-SOCK-3PK-S": "21-SOCK-3PK",
    "21-KBD-MECH": "21-KBD-MECH-RED",
    "21-RITOCS003b": "21-RITOCS004b",
    "DE-WS-4411": "DE-WS-4412",
    "DE-RJ-2030": "DE-RJ-2031",
}

# How the warehouse found goods returned for each reason: (condition, disposition).
FOUND = {
    "DEFECTIVE": (Condition.DEFECTIVE, Disposition.RETURN_TO_VENDOR),
    "WRONG_ITEM": (Condition.WRONG_ITEM, Disposition.RESTOCK),
    "NOT_AS_DESCRIBED": (Condition.OPENED, Disposition.REFURBISH),
    "TOO_SMALL": (Condition.AS_NEW, Disposition.RESTOCK),
    "TOO_LARGE": (Condition.AS_NEW, Disposition.RESTOCK),
    "CHANGED_MIND": (Condition.OPENED, Disposition.RESTOCK),
}

CUSTOMERS = {
    "TMSUS": [
        ("alan@example.com", "Alan Turing", ("3 Bletchley Ct", "Princeton", "NJ", "08540")),
        ("barbara@example.com", "Barbara Liskov", ("55 Vassar St", "Cambridge", "MA", "02139")),
        ("edsger@example.com", "Edsger Dijkstra", ("1 University Ave", "Austin", "TX", "78712")),
        ("frances@example.com", "Frances Allen", ("1101 Kitchawan Rd", "Yorktown", "NY", "10598")),
        (
            "donald@example.com",
            "Donald Knuth",
            ("353 Jane Stanford Way", "Stanford", "CA", "94305"),
        ),
        ("radia@example.com", "Radia Perlman", ("77 Lake St", "Seattle", "WA", "98101")),
        ("ken@example.com", "Ken Thompson", ("600 Mountain Ave", "Murray Hill", "NJ", "07974")),
        (
            "karen@example.com",
            "Karen Spärck Jones",
            ("15 JJ Thomson Ave", "Boulder", "CO", "80302"),
        ),
    ],
    "TMSDE": [
        ("konrad@example.de", "Konrad Zuse", ("Hünfelder Str. 3", "Hünfeld", "36088")),
        ("ida@example.de", "Ida Noddack", ("Lindenallee 8", "Bamberg", "96047")),
        ("heinz@example.de", "Heinz Nixdorf", ("Fürstenallee 7", "Paderborn", "33102")),
        ("melitta@example.de", "Melitta Bentz", ("Ringstraße 99", "Minden", "32427")),
    ],
}


@dataclass(frozen=True)
class Line:
    item_id: str
    quantity: int
    reason: str
    # Units found otherwise than the reason suggests: ((quantity, condition, disposition),)
    units: tuple[tuple[int, str, str], ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class Return:
    """One history return: its store, how many days ago it was requested, how it ended."""

    store: str
    days_ago: int
    status: str
    resolution: str
    lines: tuple[Line, ...]
    channel: str = Channel.PORTAL
    # Received fewer than requested (the first line, one unit short).
    short: bool = False
    status_reason: str = ""


RETURNS = (
    Return("TMSUS", 41, S.RESOLVED, R.REFUND, (Line("21-KBD-MECH", 1, "DEFECTIVE"),)),
    Return("TMSUS", 40, S.EXPIRED, R.REFUND, (Line("21-MOUSE-WL2", 1, "CHANGED_MIND"),)),
    Return("TMSUS", 38, S.RESOLVED, R.STORE_CREDIT, (Line("21-SOCK-3PK", 2, "TOO_SMALL"),)),
    Return(
        "TMSUS",
        37,
        S.REJECTED,
        R.REFUND,
        (Line("21-RITOCS004b", 1, "NOT_AS_DESCRIBED", comment="The colour is off."),),
        status_reason="Used for several weeks; not returnable as not described.",
    ),
    Return("TMSUS", 35, S.RESOLVED, R.EXCHANGE, (Line("21-SOCK-3PK-S", 1, "TOO_SMALL"),)),
    Return("TMSUS", 34, S.EXPIRED, R.STORE_CREDIT, (Line("21-NOTE-A5", 2, "CHANGED_MIND"),)),
    Return("TMSUS", 33, S.RESOLVED, R.REFUND, (Line("21-LAMP-DSK", 1, "WRONG_ITEM"),)),
    Return(
        "TMSUS",
        31,
        S.RESOLVED,
        R.REFUND,
        (
            Line(
                "21-RITOCS004b",
                2,
                "TOO_LARGE",
                units=((1, Condition.AS_NEW, Disposition.RESTOCK), (1, "DAMAGED", "DISPOSE")),
                comment="Both too large for my laptop.",
            ),
        ),
    ),
    Return(
        "TMSUS",
        29,
        S.CANCELLED,
        R.REFUND,
        (Line("21-MOUSE-WL2P", 1, "CHANGED_MIND"),),
        status_reason="Decided to keep it.",
    ),
    Return(
        "TMSUS",
        27,
        S.RESOLVED,
        R.REFUND,
        (Line("21-CABLE-C2", 2, "DEFECTIVE"), Line("21-MOUSE-WL2", 1, "CHANGED_MIND")),
        channel=Channel.API,
    ),
    Return("TMSUS", 25, S.RESOLVED, R.STORE_CREDIT, (Line("21-KBD-MECH-BLU", 1, "TOO_LARGE"),)),
    Return("TMSUS", 23, S.RESOLVED, R.REFUND, (Line("21-LAMP-DSK", 1, "DEFECTIVE"),)),
    Return("TMSUS", 21, S.RESOLVED, R.EXCHANGE, (Line("21-KBD-MECH", 1, "CHANGED_MIND"),)),
    Return(
        "TMSUS",
        19,
        S.RESOLVED,
        R.REFUND,
        (Line("21-SOCK-3PK", 3, "TOO_SMALL"),),
        short=True,
        channel=Channel.AGENT,
    ),
    Return(
        "TMSUS",
        17,
        S.REJECTED,
        R.REFUND,
        (Line("21-KBD-MECH", 1, "NOT_AS_DESCRIBED", comment="Keys feel different."),),
        status_reason="The switches are as described on the product page.",
    ),
    Return("TMSUS", 15, S.RESOLVED, R.REFUND, (Line("21-RITOCS003b", 1, "TOO_SMALL"),)),
    Return("TMSUS", 13, S.RESOLVED, R.STORE_CREDIT, (Line("21-NOTE-A5", 3, "CHANGED_MIND"),)),
    Return("TMSUS", 12, S.RESOLVED, R.EXCHANGE, (Line("21-RITOCS003b", 1, "TOO_SMALL"),)),
    Return("TMSUS", 11, S.RESOLVED, R.REFUND, (Line("21-MOUSE-WL2", 1, "DEFECTIVE"),)),
    Return(
        "TMSUS",
        9,
        S.RECEIVED,
        R.REFUND,
        (Line("21-LAMP-DSK", 1, "DEFECTIVE", comment="Flickers after ten minutes."),),
    ),
    Return("TMSUS", 8, S.RESOLVED, R.REFUND, (Line("21-CABLE-C2", 1, "WRONG_ITEM"),)),
    Return(
        "TMSUS",
        7,
        S.RECEIVED,
        R.REFUND,
        (
            Line(
                "21-RITOCS004b",
                2,
                "CHANGED_MIND",
                units=((1, Condition.AS_NEW, Disposition.RESTOCK), (1, "OPENED", "REFURBISH")),
            ),
        ),
    ),
    Return(
        "TMSUS",
        6,
        S.CANCELLED,
        R.STORE_CREDIT,
        (Line("21-SOCK-3PK-S", 1, "TOO_SMALL"),),
        status_reason="Ordered the wrong size; exchanging in store instead.",
    ),
    Return("TMSUS", 5, S.AUTHORIZED, R.REFUND, (Line("21-KBD-MECH-BLU", 1, "TOO_LARGE"),)),
    Return("TMSUS", 4, S.AUTHORIZED, R.REFUND, (Line("21-MOUSE-WL2P", 1, "DEFECTIVE"),)),
    Return("TMSUS", 3, S.AUTHORIZED, R.STORE_CREDIT, (Line("21-NOTE-A5", 1, "CHANGED_MIND"),)),
    Return(
        "TMSUS",
        2,
        S.REQUESTED,
        R.REFUND,
        (Line("21-LAMP-DSK", 1, "NOT_AS_DESCRIBED", comment="Much dimmer than pictured."),),
    ),
    Return(
        "TMSUS",
        1,
        S.REQUESTED,
        R.REFUND,
        (Line("21-RITOCS003b", 1, "NOT_AS_DESCRIBED", comment="Zip is plastic, not metal."),),
    ),
    Return("TMSUS", 0, S.AUTHORIZED, R.REFUND, (Line("21-CABLE-C2", 1, "DEFECTIVE"),)),
    Return("TMSDE", 39, S.RESOLVED, R.REFUND, (Line("DE-WS-4411", 1, "TOO_SMALL"),)),
    Return("TMSDE", 33, S.EXPIRED, R.REFUND, (Line("DE-RS-7780", 1, "CHANGED_MIND"),)),
    Return("TMSDE", 28, S.RESOLVED, R.EXCHANGE, (Line("DE-RJ-2030", 1, "TOO_SMALL"),)),
    Return("TMSDE", 24, S.RESOLVED, R.STORE_CREDIT, (Line("DE-RS-7781", 1, "CHANGED_MIND"),)),
    Return(
        "TMSDE",
        20,
        S.REJECTED,
        R.REFUND,
        (Line("DE-RJ-2032", 1, "NOT_AS_DESCRIBED", comment="Nicht wasserdicht."),),
        status_reason="Getragen und verschmutzt zurückgeschickt.",
    ),
    Return("TMSDE", 16, S.RESOLVED, R.REFUND, (Line("DE-WS-4412", 1, "DEFECTIVE"),)),
    Return("TMSDE", 12, S.RESOLVED, R.EXCHANGE, (Line("DE-WS-4411", 1, "TOO_SMALL"),)),
    Return("TMSDE", 10, S.CANCELLED, R.REFUND, (Line("DE-RJ-2030", 1, "CHANGED_MIND"),)),
    Return("TMSDE", 8, S.RECEIVED, R.REFUND, (Line("DE-RS-7781", 1, "WRONG_ITEM"),)),
    Return("TMSDE", 4, S.AUTHORIZED, R.REFUND, (Line("DE-RJ-2032", 1, "TOO_LARGE"),)),
    Return(
        "TMSDE",
        1,
        S.REQUESTED,
        R.REFUND,
        (Line("DE-WS-4411", 1, "NOT_AS_DESCRIBED", comment="Sohle löst sich."),),
    ),
)

# Orders nobody returned, per store, spread over the same weeks (return rates stay real).
KEPT_ORDERS = {"TMSUS": 60, "TMSDE": 24}
HISTORY_DAYS = 42
# How long after the request (or the step before) each step came.
REVIEWED_AFTER = dt.timedelta(hours=20)
CANCELLED_AFTER = dt.timedelta(days=1, hours=5)


def received_after(entry: Return) -> dt.timedelta:
    """Parcels take 3 to 6 days to come back, each its own time."""
    return dt.timedelta(days=3 + entry.days_ago % 4, hours=3 + entry.days_ago % 5)


def resolved_after(entry: Return) -> dt.timedelta:
    """Customer care takes 6 hours to 2 days."""
    return dt.timedelta(hours=6 + (entry.days_ago * 7) % 40)


SHOPPER = ActorType.SHOPPER
AGENT_LABEL = "care.demo"
WAREHOUSE_LABEL = "dock.demo"


def order_id(store: str, number: int) -> str:
    return f"3000170{number:03d}" if store == "TMSUS" else f"DE-090{number:03d}"


def _address(store: str, customer) -> dict:
    place = customer[2]
    if store == "TMSUS":
        line1, city, state, postal_code = place
        return {
            "name": "",
            "line1": line1,
            "line2": "",
            "city": city,
            "state": state,
            "postal_code": postal_code,
            "country": "US",
        }
    line1, city, postal_code = place
    return {
        "name": "",
        "line1": line1,
        "line2": "",
        "city": city,
        "state": "",
        "postal_code": postal_code,
        "country": "DE",
    }


def _order(store: str, number: int, placed: dt.datetime, lines, customer) -> dict:
    """An import document order, placed at `placed`, delivered five days later."""
    email, name, _place = customer
    return {
        "store": store,
        "order_id": order_id(store, number),
        "status": "DELIVERED",
        "placed_at": placed.isoformat(),
        "shipped_at": (placed + dt.timedelta(days=1)).isoformat(),
        "delivered_at": (placed + dt.timedelta(days=5)).isoformat(),
        "customer": {"email": email, "name": name},
        "shipping_address": _address(store, customer),
        "lines": [
            _order_line(store, line_number, item_id, quantity)
            for line_number, (item_id, quantity) in enumerate(lines, start=1)
        ],
    }


def _order_line(store: str, line_number: int, item_id: str, quantity: int) -> dict:
    title, department, price, weight, (length, width, height) = ITEMS[store][item_id]
    return {
        "line_number": line_number,
        "item_id": item_id,
        "title": title,
        "department": department,
        "quantity": quantity,
        "unit_price": price,
        "weight": weight,
        "length": length,
        "width": width,
        "height": height,
        "hazmat": False,
        "final_sale": False,
        "delivered_at": None,
        "supplier": None,
    }


def requested_at(entry: Return, index: int, now: dt.datetime) -> dt.datetime:
    """When the shopper asked: `days_ago` days before now, at a time of day of its own."""
    hours = 1 + (index * 5) % 9
    return now - dt.timedelta(days=entry.days_ago, hours=hours)


def history_document(*, now: dt.datetime) -> dict:
    """The history orders as an import document: one per return, then the kept ones."""
    orders = []
    counters = {store: 0 for store in ITEMS}
    for index, entry in enumerate(RETURNS):
        counters[entry.store] += 1
        customers = CUSTOMERS[entry.store]
        placed = requested_at(entry, index, now) - dt.timedelta(days=8)
        orders.append(
            _order(
                entry.store,
                counters[entry.store],
                placed,
                [(line.item_id, line.quantity) for line in entry.lines],
                customers[index % len(customers)],
            )
        )
    # Always the same kept orders: a fixed seed, not the moment of loading.
    chance = random.Random(15)  # noqa: S311 (made-up demo data, not security)
    for store, count in KEPT_ORDERS.items():
        items = sorted(ITEMS[store])
        for number in range(count):
            counters[store] += 1
            placed = now - dt.timedelta(
                days=5 + (number * HISTORY_DAYS) // count, hours=chance.randint(0, 20)
            )
            chosen = chance.sample(items, chance.randint(1, 3))
            orders.append(
                _order(
                    store,
                    counters[store],
                    placed,
                    [(item_id, chance.randint(1, 2)) for item_id in chosen],
                    CUSTOMERS[store][chance.randrange(len(CUSTOMERS[store]))],
                )
            )
    return {"orders": orders}


@transaction.atomic
def load_history(*, now: dt.datetime) -> int:
    """Write the history anew (orders through the importer, then the returns); the number of
    history returns comes back."""
    document = history_document(now=now)
    numbers = [order["order_id"] for order in document["orders"]]
    _delete_history_returns(numbers)
    import_document(document)
    orders = {
        (order.store.code, order.order_id): order
        for order in Order.objects.filter(order_id__in=numbers)
        .select_related("store")
        .prefetch_related("lines")
    }
    counters = {store: 0 for store in ITEMS}
    for index, entry in enumerate(RETURNS):
        counters[entry.store] += 1
        order = orders[(entry.store, order_id(entry.store, counters[entry.store]))]
        _write_return(entry, order=order, at=requested_at(entry, index, now), now=now)
    return len(RETURNS)


def _delete_history_returns(order_ids: list[str]) -> None:
    rmas = Rma.objects.filter(order__order_id__in=order_ids, store__code__in=list(ITEMS))
    StoreCreditEntry.objects.filter(credit__rma__in=rmas).delete()
    StoreCreditEntry.objects.filter(rma__in=rmas).delete()
    StoreCredit.objects.filter(rma__in=rmas).delete()
    Refund.objects.filter(rma__in=rmas).delete()
    rmas.delete()


@dataclass
class _Trail:
    """The events of one return, in the order they happened, with their moments."""

    rma: Rma
    events: list[RmaEvent]
    moments: list[dt.datetime]

    def add(self, type: str, at: dt.datetime, data: dict, *, actor: str, label: str) -> None:
        self.events.append(
            RmaEvent(rma=self.rma, type=type, actor_type=actor, actor_label=label, data=data)
        )
        self.moments.append(at)

    def move(self, to_status: str, at: dt.datetime, *, actor: str, label: str, **data) -> None:
        from_status = self.rma.status
        # The lifecycle's own moves only, as the transition service checks them.
        if from_status is not None and not is_allowed(from_status, to_status):
            raise ValueError(f"demo history: {from_status} -> {to_status} is not allowed")
        self.rma.status = to_status
        self.add(
            EVENT_FOR_STATUS[to_status],
            at,
            {"from": from_status, "to": to_status, **data},
            actor=actor,
            label=label,
        )


def _unused_rma_number() -> str:
    while True:
        number = new_rma_number()
        if not Rma.objects.filter(rma_number=number).exists():
            return number


def _write_return(entry: Return, *, order: Order, at: dt.datetime, now: dt.datetime) -> None:
    store: Store = order.store
    policy = StorePolicy.of(store)
    order_lines = {line.item_id: line for line in order.lines.all()}
    needs_review = any(
        (reason := policy.reason(line.reason)) is not None and reason.requires_review
        for line in entry.lines
    )
    rma = Rma.objects.create(
        store=store,
        order=order,
        rma_number=_unused_rma_number(),
        status=S.REQUESTED,
        resolution=entry.resolution,
        label_status=LabelStatus.NOT_REQUIRED,
        channel=entry.channel,
        customer_comment=entry.lines[0].comment,
    )
    lines = RmaLine.objects.bulk_create(
        [
            RmaLine(
                rma=rma,
                order_line=order_lines[line.item_id],
                quantity=line.quantity,
                reason_code=line.reason,
                customer_comment=line.comment,
            )
            for line in entry.lines
        ]
    )
    requester = (
        (ActorType.AGENT, AGENT_LABEL)
        if entry.channel == Channel.AGENT
        else (ActorType.API, "api key demo")
        if entry.channel == Channel.API
        else (SHOPPER, order.customer_email)
    )
    trail = _Trail(rma, [], [])
    rma.status = None
    first_status = S.REQUESTED if needs_review else S.AUTHORIZED
    trail.add(
        "rma.created",
        at,
        {
            "channel": entry.channel,
            "status": first_status,
            "resolution": entry.resolution,
            "lines": [
                {"line_number": line.order_line.line_number, "quantity": line.quantity}
                | {"reason": line.reason_code}
                for line in lines
            ],
        },
        actor=requester[0],
        label=requester[1],
    )
    rma.status = S.REQUESTED
    timestamps = {"created_at": at}
    moment = at
    if needs_review:
        if entry.status == S.REJECTED:
            moment = at + REVIEWED_AFTER
            trail.move(
                S.REJECTED,
                moment,
                actor=ActorType.AGENT,
                label=AGENT_LABEL,
                reason=entry.status_reason,
            )
        elif entry.status != S.REQUESTED:
            moment = at + REVIEWED_AFTER
            trail.move(S.AUTHORIZED, moment, actor=ActorType.AGENT, label=AGENT_LABEL)
            timestamps["authorized_at"] = moment
    else:
        rma.status = None
        trail.move(S.AUTHORIZED, at, actor=ActorType.SYSTEM, label="return policy", automatic=True)
        timestamps["authorized_at"] = at
    if "authorized_at" in timestamps:
        timestamps["expires_at"] = timestamps["authorized_at"] + dt.timedelta(
            days=policy.rma_expiry_days
        )
    if entry.status == S.CANCELLED:
        moment = moment + CANCELLED_AFTER
        trail.move(
            S.CANCELLED,
            moment,
            actor=SHOPPER,
            label=order.customer_email,
            reason=entry.status_reason,
        )
    elif entry.status == S.EXPIRED:
        trail.move(S.EXPIRED, timestamps["expires_at"], actor=ActorType.SYSTEM, label="expiry")
    elif entry.status in (S.RECEIVED, S.RESOLVED):
        moment = moment + received_after(entry)
        _receive(trail, entry, lines, moment)
        timestamps["received_at"] = moment
        if entry.status == S.RESOLVED:
            moment = moment + resolved_after(entry)
            _resolve(trail, entry, lines, policy=policy, at=moment)
            timestamps["resolved_at"] = moment
    if rma.status != entry.status or trail.moments[-1] > now:
        raise ValueError(f"demo history: {entry} ends {rma.status} at {trail.moments[-1]}")

    for name, value in timestamps.items():
        setattr(rma, name, value)
    if entry.status in (S.REJECTED, S.CANCELLED):
        rma.status_reason = entry.status_reason
    rma.save()
    # `created_at`/`updated_at` are set by the database on the first save: the moment of
    # the request and of the last move, written after.
    Rma.objects.filter(pk=rma.pk).update(created_at=at, updated_at=trail.moments[-1])
    # The events' `created_at` is set on insert: their moments are written after.
    created = RmaEvent.objects.bulk_create(trail.events)
    for event, moment in zip(created, trail.moments, strict=True):
        event.created_at = moment
    RmaEvent.objects.bulk_update(created, ["created_at"])


def _receive(trail: _Trail, entry: Return, lines: list[RmaLine], at: dt.datetime) -> None:
    for index, (line, spec) in enumerate(zip(lines, entry.lines, strict=True)):
        received = line.quantity - (1 if entry.short and index == 0 else 0)
        condition, disposition = FOUND[spec.reason]
        groups = spec.units or ((received, condition, disposition),)
        line.received_quantity = received
        line.receipt_units = [
            {"quantity": quantity, "condition": str(condition), "disposition": str(disposition)}
            for quantity, condition, disposition in groups
        ]
        # The line's own condition and disposition: its worst group's, as receiving keeps them.
        worst = min(groups, key=lambda group: CONDITION_SEVERITY.index(group[1]))
        line.condition, line.disposition = str(worst[1]), str(worst[2])
    RmaLine.objects.bulk_update(
        lines, ["received_quantity", "receipt_units", "condition", "disposition"]
    )
    trail.move(
        S.RECEIVED,
        at,
        actor=ActorType.AGENT,
        label=WAREHOUSE_LABEL,
        short=entry.short,
        lines=[received_line_data(line) for line in lines],
    )


def _resolve(
    trail: _Trail, entry: Return, lines: list[RmaLine], *, policy: StorePolicy, at: dt.datetime
) -> None:
    rma = trail.rma
    currency = rma.store.currency
    credit_total = refund_total = Decimal(0)
    for line in lines:
        breakdown = line_refund_breakdown(line, policy, currency=currency)
        line.outcome = entry.resolution
        if entry.resolution == R.REFUND:
            line.refund_amount, line.restocking_fee = breakdown.net, breakdown.restocking_fee
            refund_total += breakdown.net
        elif entry.resolution == R.STORE_CREDIT:
            line.store_credit_amount = breakdown.net
            line.restocking_fee = breakdown.restocking_fee
            credit_total += breakdown.net
        elif entry.resolution == R.EXCHANGE:
            line.replacement_item_id = EXCHANGED_FOR[line.order_line.item_id]
    if credit_total:
        credit = store_credit_issue(store=rma.store, amount=credit_total, rma=rma, now=at)
        for line in lines:
            line.store_credit_code = credit.code
    RmaLine.objects.bulk_update(lines, AMOUNT_FIELDS)

    def money(value):
        return None if value is None else f"{value:.2f}"

    trail.move(
        S.RESOLVED,
        at,
        actor=ActorType.AGENT,
        label=AGENT_LABEL,
        currency=currency,
        refund_total=f"{refund_total:.2f}",
        store_credit_total=f"{credit_total:.2f}",
        return_fee="0.00",
        lines=[
            {
                "line_number": line.order_line.line_number,
                "item_id": line.order_line.item_id,
                "quantity": line.quantity,
                "received_quantity": line.received_quantity,
                "outcome": line.outcome,
                "refund_amount": money(line.refund_amount),
                "restocking_fee": money(line.restocking_fee),
                "store_credit_amount": money(line.store_credit_amount),
                "store_credit_code": line.store_credit_code,
                "replacement_item_id": line.replacement_item_id,
            }
            for line in lines
        ],
    )

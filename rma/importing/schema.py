"""The import document (docs/import-format.md): its keys, their types, and reading it into rows.

Reading is pure (no queries): it collects every problem of the document and returns
the rows to write. Checks that need the database (known stores and suppliers, lines
held by RMAs) are in `upsert.py`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from policies import rules
from rma.models import Order, OrderLine, OrderStatus, Resolution, Store, Supplier
from rma.policy import POLICY_DEFAULTS, StorePolicy

from .fields import (
    Field,
    Problems,
    boolean,
    choice,
    decimal,
    email,
    integer,
    join,
    list_of,
    object_of,
    read_object,
    text,
    timestamp,
    timezone_name,
    upper_code,
    url,
    url_or_site_path,
)

# The most units one order line may have. A store sells far fewer per order; a larger
# figure is a data error upstream (and would only burden every page showing the line).
MAX_LINE_QUANTITY = 10_000
WEIGHT_UNITS = ("lb", "oz", "kg", "g")
DIMENSION_UNITS = ("in", "cm")


def max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def _line_decimal(name: str):
    field = OrderLine._meta.get_field(name)
    return decimal(decimal_places=field.decimal_places, max_digits=field.max_digits)


def unique_by(key: str, read_item, *, non_empty: bool = False, maximum: int | None = None):
    """A list of objects in which `key` (a code or number) appears only once (at most
    `maximum` of them when given); a duplicate names the first use."""
    read_list = list_of(read_item, non_empty=non_empty)

    def read(value, where: str, problems: Problems):
        if maximum is not None and isinstance(value, list) and len(value) > maximum:
            problems.add(where, f"must have at most {maximum} entries (got {len(value)})")
            return None
        items = read_list(value, where, problems)
        name = where.rsplit(".", 1)[-1]
        for duplicate, indexes in duplicates(items or [], key).items():
            for index in indexes[1:]:
                problems.add(
                    f"{where}[{index}].{key}",
                    f"{duplicate!r} is already used by {name}[{indexes[0]}]",
                )
        return items

    return read


def duplicates(rows, key) -> dict[object, list[int]]:
    """Values of `key` (a dict key, or a function of the row) that several rows share."""
    indexes = defaultdict(list)
    for index, row in enumerate(rows):
        if row is None:
            continue
        value = key(row) if callable(key) else row.get(key)
        if value is not None:
            indexes[value].append(index)
    return {value: found for value, found in indexes.items() if len(found) > 1}


ADDRESS = {
    "name": Field(text(200), default=""),
    "line1": Field(text(200, blank=False), required=True),
    "line2": Field(text(200), default=""),
    "city": Field(text(100, blank=False), required=True),
    "state": Field(text(100), default=""),
    "postal_code": Field(text(20, blank=False), required=True),
    "country": Field(upper_code(2, "country code (ISO 3166)"), required=True),
}

SUPPLIER = {
    "code": Field(text(max_length(Supplier, "code"), blank=False), required=True),
    "name": Field(text(max_length(Supplier, "name"), blank=False), required=True),
    "email": Field(email, default=""),
    "return_address": Field(object_of(ADDRESS), required=True),
}

REASON = {
    "code": Field(text(64, blank=False), required=True),
    "description": Field(text(200, blank=False), required=True),
    "seller_fault": Field(boolean, default=False),
    "requires_review": Field(boolean, default=False),
    "requires_photo": Field(boolean, default=False),
    # Grouping for the shopper's list (docs/import-format.md): a category, an optional
    # parent reason (a sub-reason), and the departments the reason fits (empty: every one).
    "category": Field(text(100)),
    "parent": Field(text(64)),
    "departments": Field(list_of(text(100, blank=False), unique=True)),
}


def read_reasons(value, where: str, problems: Problems):
    """The store's reasons: unique codes, each parent one of the other reasons (one level)."""
    reasons = unique_by("code", object_of(REASON))(value, where, problems)
    by_code = {reason["code"]: reason for reason in reasons or () if reason}
    for index, reason in enumerate(reasons or ()):
        parent = (reason or {}).get("parent")
        if not parent:
            continue
        here = f"{where}[{index}].parent"
        if parent == reason["code"]:
            problems.add(here, "a reason cannot be its own parent")
        elif parent not in by_code:
            problems.add(here, f'"{parent}" is not one of the reasons')
        elif by_code[parent].get("parent"):
            problems.add(here, f'"{parent}" is itself a sub-reason (one level only)')
    return reasons


RULE_CONDITION = {
    "field": Field(choice(rules.CONDITION_FIELDS), required=True),
    "op": Field(choice(rules.NUMBER_OPERATORS + rules.TEXT_OPERATORS), required=True),
    "value": Field(lambda value, where, problems: value, required=True),
    "days": Field(integer(minimum=1, maximum=3650)),
}
RULE_ACTION = {
    "action": Field(choice(rules.ACTIONS), required=True),
    "days": Field(integer(minimum=1, maximum=3650)),
    "message": Field(text(300, blank=False)),
    "amount": Field(decimal(maximum=Decimal(1_000_000))),
    "destination": Field(text(max_length(Supplier, "code"), blank=False)),
}
# What each action needs besides its name.
ACTION_KEYS = {
    "extend_window": ("days",),
    "block": ("message",),
    "set_return_fee": ("amount",),
    "route": ("destination",),
}
RULE = {
    "name": Field(text(100, blank=False), required=True),
    "enabled": Field(boolean, default=True),
    "when": Field(list_of(object_of(RULE_CONDITION)), default=()),
    "then": Field(list_of(object_of(RULE_ACTION), non_empty=True), required=True),
}
_NUMBER_VALUE = decimal(maximum=Decimal(1_000_000_000))
_TEXT_VALUES = list_of(text(254, blank=False), non_empty=True)


def _read_condition_value(condition: dict, where: str, problems: Problems):
    name, operator, value = condition["field"], condition["op"], condition["value"]
    if name is None or operator is None:
        return None
    if name in rules.NUMBER_FIELDS:
        if operator not in rules.NUMBER_OPERATORS:
            problems.add(f"{where}.op", f"{operator!r} does not compare numbers (use gt, gte, …)")
            return None
        if name == "return_count":
            if condition["days"] is None:
                problems.add(where, 'a return_count condition needs "days"')
            return integer(minimum=0)(value, f"{where}.value", problems)
        return _NUMBER_VALUE(value, f"{where}.value", problems)
    if operator not in rules.TEXT_OPERATORS:
        problems.add(f"{where}.op", f"{operator!r} does not compare texts (use in, not_in, …)")
        return None
    if operator == "ends_with":
        return text(254, blank=False)(value, f"{where}.value", problems)
    return _TEXT_VALUES(value, f"{where}.value", problems)


def read_rules(value, where: str, problems: Problems):
    """The store's rules (docs/console.md), each condition's value read by its field's type."""
    items = unique_by("name", object_of(RULE))(value, where, problems)
    stored = []
    for index, rule in enumerate(items or ()):
        if rule is None:
            stored.append(None)
            continue
        here = f"{where}[{index}]"
        conditions = []
        for number, condition in enumerate(rule["when"] or ()):
            if condition is None:
                continue
            read = _read_condition_value(condition, f"{here}.when[{number}]", problems)
            conditions.append({**condition, "value": read})
        for number, action in enumerate(rule["then"] or ()):
            if action is None:
                continue
            for key in ACTION_KEYS.get(action["action"], ()):
                if action.get(key) is None:
                    problems.add(
                        f"{here}.then[{number}]", f'a {action["action"]} action needs "{key}"'
                    )
        stored.append({**rule, "when": conditions})
    return stored


LABEL_POLICY = {
    "carriers": Field(list_of(text(64, blank=False), unique=True)),
    "services": Field(list_of(text(100, blank=False), unique=True)),
    "max_rate": Field(decimal(positive=True, decimal_places=2)),
    "qr_code": Field(boolean),
}


def read_label_policy(value, where: str, problems: Problems) -> dict | None:
    """The carrier label policy as stored: only the keys given, the rate as a string."""
    label = read_object(value, LABEL_POLICY, where, problems)
    if label is None:
        return None
    return {
        key: str(item) if isinstance(item, Decimal) else item
        for key, item in label.items()
        if item is not None
    }


RETURN_FEE = {
    "amount": Field(decimal(maximum=Decimal(1_000_000))),
    "waived_for_resolutions": Field(list_of(choice(Resolution.values), unique=True)),
    "waived_when_seller_fault": Field(boolean),
}

EXCHANGE = {
    "instant": Field(boolean),
    "allow_other_products": Field(boolean),
}

# Absent keys keep their default (`rma.policy.POLICY_DEFAULTS`), so none is required here.
POLICY = {
    "return_window_days": Field(integer(minimum=0, maximum=3650)),
    "returnable_statuses": Field(list_of(choice(OrderStatus.values), unique=True)),
    "excluded_departments": Field(list_of(text(100, blank=False), unique=True)),
    "excluded_items": Field(list_of(text(64, blank=False), unique=True)),
    "hazmat_returnable": Field(boolean),
    "excluded_states": Field(list_of(text(100, blank=False), unique=True)),
    "allowed_countries": Field(list_of(upper_code(2, "country code (ISO 3166)"), unique=True)),
    "resolutions": Field(list_of(choice(Resolution.values), non_empty=True, unique=True)),
    "reasons": Field(read_reasons),
    "restocking_fee_percent": Field(decimal(maximum=Decimal(100))),
    "rma_expiry_days": Field(integer(minimum=1, maximum=3650)),
    "weight_unit": Field(choice(WEIGHT_UNITS)),
    "dimension_unit": Field(choice(DIMENSION_UNITS)),
    "dim_divisor": Field(integer(minimum=1)),
    "max_weight": Field(decimal(positive=True)),
    "max_dimension": Field(decimal(positive=True)),
    "max_dimensional_weight": Field(decimal(positive=True)),
    "min_invoice_amount": Field(decimal()),
    "max_invoice_amount": Field(decimal(positive=True)),
    "label": Field(read_label_policy),
    "return_fee": Field(object_of(RETURN_FEE)),
    "store_credit_bonus_percent": Field(decimal(maximum=Decimal(1000))),
    "keep_item_below": Field(decimal(maximum=Decimal(1_000_000))),
    "exchange": Field(object_of(EXCHANGE)),
    "store_credit_expiry_days": Field(integer(minimum=1, maximum=36500)),
    "rules": Field(read_rules),
}
if POLICY.keys() != POLICY_DEFAULTS.keys():  # pragma: no cover - a programming error
    raise RuntimeError("rma.importing.schema.POLICY must list exactly the POLICY_DEFAULTS keys")


def read_policy(value, where: str, problems: Problems) -> dict | None:
    """The policy as stored on the store: only the keys given, decimals as strings."""
    policy = read_object(value, POLICY, where, problems)
    if policy is None:
        return None
    stored = _stored(policy)
    view = StorePolicy(stored)
    if view.min_invoice_amount > view.max_invoice_amount:
        problems.add(where, "min_invoice_amount is above max_invoice_amount")
    return stored


def _stored(value):
    """A value as kept in the JSON policy: decimals as strings, absent (None) keys left out."""
    if isinstance(value, dict):
        return {key: _stored(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_stored(item) for item in value]
    return str(value) if isinstance(value, Decimal) else value


def _read_products(value, where: str, problems: Problems) -> list[tuple[str, dict]]:
    # Imported here: catalogue.importing itself uses this package's readers.
    from catalogue.importing import read_products

    return read_products(value, where, problems)


STORE = {
    "code": Field(
        text(
            max_length(Store, "code"),
            blank=False,
            pattern=r"[A-Za-z0-9._-]+",
            pattern_hint="use only letters, digits, '.', '_' and '-'",
        ),
        required=True,
    ),
    "name": Field(text(max_length(Store, "name"), blank=False), required=True),
    "currency": Field(upper_code(3, "currency code (ISO 4217)"), required=True),
    "timezone": Field(timezone_name, required=True),
    "support_email": Field(email, default=""),
    "return_address": Field(object_of(ADDRESS), required=True),
    "suppliers": Field(unique_by("code", object_of(SUPPLIER)), default=()),
    "policy": Field(read_policy),
    "brand_colour": Field(
        text(7, pattern=r"(#[0-9A-Fa-f]{6})?", pattern_hint="a colour like #1A6B3C"), default=""
    ),
    "logo_url": Field(url_or_site_path, default=""),
    # The language the portal shows the store's shoppers first ("" for the browser's).
    "language": Field(choice(["", *(code for code, _name in settings.LANGUAGES)]), default=""),
    # The store's catalogue, read by the catalogue app.
    "products": Field(_read_products, default=()),
}

# The store's labels for the customer ("vip", "wholesale"), for store rules on
# `customer_tag`: short one-line texts, each once.
MAX_CUSTOMER_TAGS = 20
MAX_CUSTOMER_TAG_LENGTH = 50


def _customer_tags(value, where: str, problems: Problems):
    tags = list_of(text(MAX_CUSTOMER_TAG_LENGTH, blank=False), unique=True)(value, where, problems)
    if tags is not None and len(tags) > MAX_CUSTOMER_TAGS:
        problems.add(where, f"must have at most {MAX_CUSTOMER_TAGS} tags")
    return tags


CUSTOMER = {
    "email": Field(email, required=True),
    "name": Field(text(max_length(Order, "customer_name")), default=""),
    "tags": Field(_customer_tags, default=()),
}

LINE = {
    "line_number": Field(integer(minimum=1), required=True),
    "item_id": Field(text(max_length(OrderLine, "item_id"), blank=False), required=True),
    "title": Field(text(max_length(OrderLine, "title")), default=""),
    "department": Field(text(max_length(OrderLine, "department")), default=""),
    "quantity": Field(integer(minimum=1, maximum=MAX_LINE_QUANTITY), required=True),
    "unit_price": Field(_line_decimal("unit_price"), required=True),
    "weight": Field(_line_decimal("weight"), default=Decimal(0)),
    "length": Field(_line_decimal("length"), default=Decimal(0)),
    "width": Field(_line_decimal("width"), default=Decimal(0)),
    "height": Field(_line_decimal("height"), default=Decimal(0)),
    "hazmat": Field(boolean, default=False),
    "final_sale": Field(boolean, default=False),
    "delivered_at": Field(timestamp),
    "supplier": Field(text(max_length(Supplier, "code"), blank=False)),
    "image_url": Field(url, default=""),
    # Totals for the whole line (not per unit), in the store currency.
    "discount": Field(_line_decimal("discount"), default=Decimal("0.00")),
    "tax": Field(_line_decimal("tax"), default=Decimal("0.00")),
}

# How the order was paid, so that refunds can go back through the payment provider.
PAYMENT = {
    "provider": Field(
        text(
            max_length(Order, "payment_provider"),
            blank=False,
            pattern=r"[a-z0-9_-]+",
            pattern_hint="a provider name in lower case, such as stripe",
        ),
        required=True,
    ),
    "payment_intent": Field(text(max_length(Order, "payment_intent"), blank=False), required=True),
}

ORDER = {
    "store": Field(text(max_length(Store, "code"), blank=False), required=True),
    "order_id": Field(text(max_length(Order, "order_id"), blank=False), required=True),
    "status": Field(choice(OrderStatus.values), required=True),
    "placed_at": Field(timestamp, required=True),
    "shipped_at": Field(timestamp),
    "delivered_at": Field(timestamp),
    "customer": Field(object_of(CUSTOMER), required=True),
    "shipping_address": Field(object_of(ADDRESS), required=True),
    "lines": Field(unique_by("line_number", object_of(LINE), non_empty=True), required=True),
    "payment": Field(object_of(PAYMENT)),
}


@dataclass
class StoreRow:
    where: str
    code: str
    # Store model fields other than `code`.
    fields: dict
    suppliers: list[dict]
    # (path, product) pairs of the import format, for `catalogue.importing`.
    products: list[tuple[str, dict]] = ()


@dataclass
class OrderRow:
    where: str
    store_code: str
    order_id: str
    # Order model fields other than `store` and `order_id`.
    fields: dict
    # OrderLine model fields; "supplier" holds the supplier's code or None. None for a
    # line that could not be read (the document is then refused anyway).
    lines: list[dict | None]

    @property
    def label(self) -> str:
        """How errors name the order; empty when the document does not say which it is."""
        if not (self.store_code and self.order_id):
            return ""
        return f"order {self.store_code} {self.order_id}"

    def problem(self, problems: Problems, message: str, where: str = "") -> None:
        problems.add(
            join(self.where, where), f"{message} ({self.label})" if self.label else message
        )


@dataclass
class Document:
    stores: list[StoreRow]
    orders: list[OrderRow]


def read_store(value, where: str, problems: Problems) -> StoreRow | None:
    store = read_object(value, STORE, where, problems)
    if store is None:
        return None
    suppliers = [supplier for supplier in store.pop("suppliers") or () if supplier is not None]
    store["policy"] = store["policy"] or {}
    products = list(store.pop("products") or ())
    return StoreRow(
        where=where, code=store.pop("code"), fields=store, suppliers=suppliers, products=products
    )


def read_order(value, where: str, problems: Problems) -> OrderRow | None:
    """One order; every problem found in it names the order when its id is readable."""
    first_problem = len(problems.messages)
    order = read_object(value, ORDER, where, problems)
    if order is None:
        return None
    # Invalid lines stay as None so that indexes keep matching the document.
    lines = order["lines"] or []
    customer = order["customer"] or {}
    payment = order["payment"] or {}
    _check_money(order, where, problems)
    row = OrderRow(
        where=where,
        store_code=order["store"],
        order_id=order["order_id"],
        fields={
            "status": order["status"],
            "placed_at": order["placed_at"],
            "shipped_at": order["shipped_at"],
            "delivered_at": order["delivered_at"],
            "customer_email": customer.get("email"),
            "customer_name": customer.get("name"),
            "customer_tags": [tag for tag in customer.get("tags") or () if tag is not None],
            "shipping_address": order["shipping_address"],
            "payment_provider": payment.get("provider") or "",
            "payment_intent": payment.get("payment_intent") or "",
        },
        lines=lines,
    )
    if row.label:
        suffix = f" ({row.label})"
        problems.messages[first_problem:] = [
            message + suffix for message in problems.messages[first_problem:]
        ]
    return row


def _check_money(order: dict, where: str, problems: Problems) -> None:
    """A line's discount cannot exceed its price plus tax; a Stripe payment is a PaymentIntent."""
    for index, line in enumerate(order["lines"] or []):
        if not line or None in (
            line["unit_price"],
            line["quantity"],
            line["discount"],
            line["tax"],
        ):
            continue
        if line["discount"] > line["unit_price"] * line["quantity"] + line["tax"]:
            problems.add(
                f"{where}.lines[{index}].discount",
                "is more than the line's price plus tax (the amount paid would be negative)",
            )
    payment = order["payment"] or {}
    intent = payment.get("payment_intent")
    if payment.get("provider") == "stripe" and intent and not intent.startswith("pi_"):
        problems.add(
            f"{where}.payment.payment_intent",
            f'"{intent}" is not a Stripe PaymentIntent id (pi_...)',
        )


def read_document(document, problems: Problems) -> Document:
    """Every store and order of an import document, with every problem found in it."""
    if not isinstance(document, dict):
        problems.add("", 'the document must be a JSON object with "stores" and/or "orders"')
        return Document(stores=[], orders=[])
    for key in document:
        if key not in ("stores", "orders"):
            problems.add("", f'unknown key "{key}" at the top of the document')
    stores = _read_list(document.get("stores"), "stores", read_store, problems)
    orders = _read_list(document.get("orders"), "orders", read_order, problems)
    for code, indexes in duplicates(stores, lambda row: row.code).items():
        problems.add(f"stores[{indexes[-1]}].code", f'store "{code}" appears more than once')
    for _, indexes in duplicates(orders, lambda row: row.label or None).items():
        orders[indexes[-1]].problem(
            problems, f"the order appears more than once (first at orders[{indexes[0]}])"
        )
    return Document(
        stores=[row for row in stores if row is not None],
        orders=[row for row in orders if row is not None],
    )


def _read_list(value, where: str, read_item, problems: Problems) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(where, "must be a list")
        return []
    return [read_item(item, f"{where}[{index}]", problems) for index, item in enumerate(value)]

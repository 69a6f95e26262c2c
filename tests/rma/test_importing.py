"""The import format (docs/import-format.md): validation, all-or-nothing, idempotent upsert."""

import datetime as dt
import json
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from rma.importing import ImportValidationError, import_document, import_order
from rma.importing.schema import POLICY
from rma.models import Order, OrderLine, RmaStatus, Store, Supplier
from rma.policy import DEFAULT_REASONS, POLICY_DEFAULTS, StorePolicy
from tests.factories import (
    RmaFactory,
    RmaLineFactory,
    import_line_data,
    import_order_data,
    spec_import_document,
)

pytestmark = pytest.mark.django_db

LABEL = "(order TMSUS 3000179304)"


def snapshot() -> dict:
    """Every row an import can touch, every column: equal snapshots mean nothing changed."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Store, Supplier, Order, OrderLine)
    }


def three_orders() -> dict:
    """The reference document with two more orders; the last has two lines."""
    document = spec_import_document()
    document["orders"] += [
        import_order_data("3000179303"),
        import_order_data(
            "3000179304",
            lines=[import_line_data(1), import_line_data(2, item_id="SKU-2", supplier="ACME")],
        ),
    ]
    return document


def refused(document) -> list[str]:
    with pytest.raises(ImportValidationError) as raised:
        import_document(document)
    return raised.value.errors


def test_spec_example_imports_every_field():
    result = import_document(spec_import_document())

    assert (result.stores.created, result.suppliers.created) == (1, 1)
    assert (result.orders.created, result.lines.created) == (1, 1)
    store = Store.objects.get(code="TMSUS")
    assert (store.name, store.currency, store.timezone) == (
        "The Model Store",
        "USD",
        "America/New_York",
    )
    assert store.return_address["city"] == "King of Prussia"
    policy = StorePolicy.of(store)
    assert policy.excluded_states == {"hi", "ak"}
    assert policy.max_invoice_amount == Decimal("5000.00")
    assert [reason.code for reason in policy.reasons] == ["TOO_SMALL"]
    supplier = Supplier.objects.get(store=store, code="ACME")
    assert supplier.return_address["postal_code"] == "89501"
    order = Order.objects.get(store=store, order_id="3000179302")
    assert order.status == "DELIVERED"
    assert order.delivered_at == dt.datetime(2026, 11, 5, 15, 30, tzinfo=dt.UTC)
    assert (order.customer_email, order.customer_name) == ("ada@example.com", "Ada Lovelace")
    assert order.shipping_address["postal_code"] == "19103"
    line = order.lines.get()
    assert (line.line_number, line.item_id, line.quantity) == (1, "21-RITOCS004b", 2)
    assert line.unit_price == Decimal("39.99")
    assert (line.weight, line.length, line.width, line.height) == (
        Decimal("1.2"),
        16,
        12,
        2,
    )
    assert line.supplier is None


def test_defaults_are_applied_to_a_minimal_document():
    document = {
        "stores": [
            {
                "code": "MINI",
                "name": "Mini",
                "currency": "eur",
                "timezone": "Europe/Berlin",
                "return_address": {
                    "line1": "Hafenstr. 1",
                    "city": "Hamburg",
                    "postal_code": "20457",
                    "country": "de",
                },
            }
        ],
        "orders": [
            {
                "store": "MINI",
                "order_id": "M-1",
                "status": "PLACED",
                "placed_at": "2026-11-01T10:00:00+01:00",
                "customer": {"email": "max@example.com"},
                "shipping_address": {
                    "line1": "Elbchaussee 2",
                    "city": "Hamburg",
                    "postal_code": "22763",
                    "country": "DE",
                },
                "lines": [{"line_number": 1, "item_id": "A", "quantity": 1, "unit_price": 0}],
            }
        ],
    }

    import_document(document)

    store = Store.objects.get(code="MINI")
    assert (store.currency, store.return_address["country"]) == ("EUR", "DE")
    assert store.policy == {}
    policy = StorePolicy.of(store)
    assert policy.return_window_days == POLICY_DEFAULTS["return_window_days"]
    assert policy.reasons == DEFAULT_REASONS
    assert policy.allowed_countries == frozenset()
    order = Order.objects.get(order_id="M-1")
    assert (order.shipped_at, order.delivered_at, order.customer_name) == (None, None, "")
    assert order.placed_at == dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    assert order.shipping_address["state"] == order.shipping_address["line2"] == ""
    line = order.lines.get()
    assert (line.title, line.department, line.unit_price) == ("", "", 0)
    assert (line.weight, line.length, line.width, line.height) == (0, 0, 0, 0)
    assert (line.hazmat, line.final_sale, line.delivered_at, line.supplier) == (
        False,
        False,
        None,
        None,
    )


def test_decimals_from_json_numbers_stay_exact():
    text = json.dumps(spec_import_document()).replace('"39.99"', "39.99")
    import_document(json.loads(text, parse_float=Decimal))
    import_document(json.loads(text))  # a float from a plain json.loads is read via str()

    assert OrderLine.objects.get().unit_price == Decimal("39.99")


def test_reimport_is_idempotent_and_writes_nothing():
    import_document(three_orders())
    before = snapshot()

    result = import_document(three_orders())

    assert result.summary() == (
        "stores: 0 created, 0 updated, 1 unchanged\n"
        "suppliers: 0 created, 0 updated, 1 unchanged\n"
        "orders: 0 created, 0 updated, 3 unchanged\n"
        "lines: 0 created, 0 updated, 4 unchanged"
    )
    assert snapshot() == before  # not even updated_at moved


def test_reimport_updates_in_place_and_deletes_unreferenced_missing_lines():
    document = spec_import_document()
    document["orders"][0]["lines"].append(import_line_data(2, item_id="GONE"))
    import_document(document)
    order = Order.objects.get()
    kept_line = order.lines.get(line_number=1)
    document["orders"][0]["status"] = "CLOSED"
    document["orders"][0]["lines"] = [
        import_line_data(1, quantity=5, supplier="ACME"),
        import_line_data(3, item_id="NEW"),
    ]
    document["stores"][0]["name"] = "The Model Store (renamed)"

    result = import_document(document)

    assert (result.lines.updated, result.lines.created, result.lines.deleted) == (1, 1, 1)
    assert (result.orders.updated, result.stores.updated) == (1, 1)
    order.refresh_from_db()
    assert order.status == "CLOSED"
    assert Store.objects.get().name == "The Model Store (renamed)"
    assert {line.line_number: line.item_id for line in order.lines.all()} == {
        1: "21-RITOCS004b",
        3: "NEW",
    }
    kept_line.refresh_from_db()
    assert (kept_line.quantity, kept_line.supplier.code) == (5, "ACME")


def test_orders_may_refer_to_a_store_already_in_the_database():
    import_document(spec_import_document())

    result = import_document({"orders": [import_order_data("3000179399")]})

    assert result.orders.created == 1
    assert Order.objects.filter(store__code="TMSUS").count() == 2


BAD_DOCUMENTS = {
    "unknown key at the top": (
        lambda d: d.update(order=[]),
        'unknown key "order" at the top of the document',
    ),
    "unknown store key": (
        lambda d: d["stores"][0].update(colour="red"),
        'stores[0]: unknown key "colour"',
    ),
    "unknown policy key": (
        lambda d: d["stores"][0]["policy"].update(return_days=30),
        'stores[0].policy: unknown key "return_days"',
    ),
    "unknown reason key": (
        lambda d: d["stores"][0]["policy"]["reasons"][0].update(label="x"),
        'stores[0].policy.reasons[0]: unknown key "label"',
    ),
    "unknown supplier address key": (
        lambda d: d["stores"][0]["suppliers"][0]["return_address"].update(street="x"),
        'stores[0].suppliers[0].return_address: unknown key "street"',
    ),
    "unknown order key": (
        lambda d: d["orders"][2].update(colour="red"),
        f'orders[2]: unknown key "colour" {LABEL}',
    ),
    "unknown line key": (
        lambda d: d["orders"][2]["lines"][1].update(colour="red"),
        f'orders[2].lines[1]: unknown key "colour" {LABEL}',
    ),
    "unknown shipping address key": (
        lambda d: d["orders"][2]["shipping_address"].update(street="x"),
        f'orders[2].shipping_address: unknown key "street" {LABEL}',
    ),
    "negative quantity": (
        lambda d: d["orders"][2]["lines"][1].update(quantity=-1),
        f"orders[2].lines[1].quantity: must be at least 1 (got -1) {LABEL}",
    ),
    "zero quantity": (
        lambda d: d["orders"][2]["lines"][1].update(quantity=0),
        f"orders[2].lines[1].quantity: must be at least 1 (got 0) {LABEL}",
    ),
    "quantity as a string": (
        lambda d: d["orders"][2]["lines"][1].update(quantity="2"),
        f"orders[2].lines[1].quantity: must be a whole number, not '2' {LABEL}",
    ),
    "negative price": (
        lambda d: d["orders"][2]["lines"][1].update(unit_price="-0.01"),
        f"orders[2].lines[1].unit_price: must be at least 0 (got -0.01) {LABEL}",
    ),
    "price not a number": (
        lambda d: d["orders"][2]["lines"][1].update(unit_price="12,50"),
        f"orders[2].lines[1].unit_price: must be a decimal number, not '12,50' {LABEL}",
    ),
    "price with too many places": (
        lambda d: d["orders"][2]["lines"][1].update(unit_price="1.999"),
        f"orders[2].lines[1].unit_price: must have at most 2 decimal places (got 1.999) {LABEL}",
    ),
    "duplicate line number": (
        lambda d: d["orders"][2]["lines"][1].update(line_number=1),
        f"orders[2].lines[1].line_number: 1 is already used by lines[0] {LABEL}",
    ),
    "no lines": (
        lambda d: d["orders"][2].update(lines=[]),
        f"orders[2].lines: must not be empty {LABEL}",
    ),
    "unknown store": (
        lambda d: d["orders"][2].update(store="NOPE"),
        'orders[2].store: unknown store "NOPE" (order NOPE 3000179304)',
    ),
    "unknown supplier": (
        lambda d: d["orders"][2]["lines"][1].update(supplier="NOPE"),
        f'orders[2].lines[1].supplier: unknown supplier "NOPE" for store "TMSUS" {LABEL}',
    ),
    "timestamp without offset": (
        lambda d: d["orders"][2].update(placed_at="2026-11-01T10:00:00"),
        'orders[2].placed_at: timestamp "2026-11-01T10:00:00" has no UTC offset'
        f" (end it with Z or +hh:mm) {LABEL}",
    ),
    "control character in a text": (
        lambda d: d["orders"][2]["shipping_address"].update(line2="Apt\x004"),
        f"orders[2].shipping_address.line2: must not contain control characters {LABEL}",
    ),
    "timestamp out of range": (
        lambda d: d["orders"][2].update(placed_at="0001-01-01T00:00:00+01:00"),
        'orders[2].placed_at: timestamp "0001-01-01T00:00:00+01:00" is not between 1970'
        f" and 2999 {LABEL}",
    ),
    "date instead of timestamp": (
        lambda d: d["orders"][2]["lines"][0].update(delivered_at="5 Nov 2026"),
        f'orders[2].lines[0].delivered_at: "5 Nov 2026" is not an ISO 8601 timestamp {LABEL}',
    ),
    "bad status": (
        lambda d: d["orders"][2].update(status="SENT"),
        "orders[2].status: 'SENT' is not one of PLACED, PROCESSING, SHIPPED, DELIVERED,"
        f" CANCELLED, CLOSED {LABEL}",
    ),
    "missing customer email": (
        lambda d: d["orders"][2]["customer"].pop("email"),
        f'orders[2].customer: missing required key "email" {LABEL}',
    ),
    "missing postcode": (
        lambda d: d["orders"][2]["shipping_address"].pop("postal_code"),
        f'orders[2].shipping_address: missing required key "postal_code" {LABEL}',
    ),
    "order twice": (
        lambda d: d["orders"][2].update(order_id="3000179303"),
        "orders[2]: the order appears more than once (first at orders[1]) (order TMSUS 3000179303)",
    ),
    "store twice": (
        lambda d: d["stores"].append(dict(d["stores"][0])),
        'stores[1].code: store "TMSUS" appears more than once',
    ),
    "supplier twice": (
        lambda d: d["stores"][0]["suppliers"].append(dict(d["stores"][0]["suppliers"][0])),
        "stores[0].suppliers[1].code: 'ACME' is already used by suppliers[0]",
    ),
    "bad timezone": (
        lambda d: d["stores"][0].update(timezone="Eastern"),
        "stores[0].timezone: 'Eastern' is not an IANA time zone such as America/New_York",
    ),
    "bad currency": (
        lambda d: d["stores"][0].update(currency="US$"),
        "stores[0].currency: must be a currency code (ISO 4217) of 3 letters, not 'US$'",
    ),
    "policy value of the wrong type": (
        lambda d: d["stores"][0]["policy"].update(return_window_days="30"),
        "stores[0].policy.return_window_days: must be a whole number, not '30'",
    ),
    "policy status unknown": (
        lambda d: d["stores"][0]["policy"].update(returnable_statuses=["SENT"]),
        "stores[0].policy.returnable_statuses[0]: 'SENT' is not one of PLACED, PROCESSING,"
        " SHIPPED, DELIVERED, CANCELLED, CLOSED",
    ),
    "reason flag not a boolean": (
        lambda d: d["stores"][0]["policy"]["reasons"][0].update(requires_photo="yes"),
        "stores[0].policy.reasons[0].requires_photo: must be true or false, not 'yes'",
    ),
    "reason without description": (
        lambda d: d["stores"][0]["policy"]["reasons"][0].pop("description"),
        'stores[0].policy.reasons[0]: missing required key "description"',
    ),
}


@pytest.mark.parametrize(("mutate", "error"), BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
def test_bad_document_gives_a_precise_error_and_changes_nothing(mutate, error):
    import_document(three_orders())
    Order.objects.filter(order_id="3000179303").delete()  # the re-import would create it
    before = snapshot()
    document = three_orders()
    document["stores"][0]["name"] = "Changed"
    document["orders"][0]["status"] = "CLOSED"
    mutate(document)

    assert refused(document) == [error]
    assert snapshot() == before


def test_bad_document_on_an_empty_database_creates_nothing():
    document = three_orders()
    document["orders"][2]["lines"][1]["quantity"] = 0

    refused(document)

    assert snapshot() == {"Store": [], "Supplier": [], "Order": [], "OrderLine": []}


def test_every_error_of_the_document_is_reported():
    document = three_orders()
    document["stores"][0]["currency"] = "DOLLARS"
    document["orders"][0]["lines"][0]["quantity"] = 0
    document["orders"][2]["store"] = "NOPE"
    document["orders"][1]["lines"][0]["supplier"] = "NOPE"

    errors = refused(document)

    assert len(errors) == 4
    assert [error.split(":")[0] for error in errors] == [
        "stores[0].currency",
        "orders[0].lines[0].quantity",
        "orders[1].lines[0].supplier",
        "orders[2].store",
    ]


def test_policy_reader_covers_exactly_the_policy_defaults():
    assert POLICY.keys() == POLICY_DEFAULTS.keys()


@pytest.fixture
def held_line():
    """The reference order imported, with line 1 (quantity 2) on one RMA line of quantity 2."""

    def make(status, received_quantity=None):
        import_document(spec_import_document())
        line = OrderLine.objects.get()
        rma = RmaFactory(order=line.order, status=status)
        RmaLineFactory(rma=rma, order_line=line, quantity=2, received_quantity=received_quantity)
        return line

    return make


HOLDING = [
    (RmaStatus.REQUESTED, None),
    (RmaStatus.AUTHORIZED, None),
    (RmaStatus.RECEIVED, 2),
    (RmaStatus.RESOLVED, 2),
]
RELEASING = [
    (RmaStatus.RESOLVED, 1),
    (RmaStatus.REJECTED, None),
    (RmaStatus.CANCELLED, None),
    (RmaStatus.EXPIRED, None),
]


@pytest.mark.parametrize(("status", "received"), HOLDING)
def test_lines_held_by_active_rmas_cannot_shrink(held_line, status, received):
    held_line(status, received)
    before = snapshot()
    document = spec_import_document()
    document["orders"].insert(0, import_order_data("3000179399"))
    document["orders"][1]["lines"][0]["quantity"] = 1

    assert refused(document) == [
        "orders[1].lines[0].quantity: line 1 cannot go down to 1: active RMAs hold 2 of it"
        " (order TMSUS 3000179302)"
    ]
    assert snapshot() == before


@pytest.mark.parametrize(("status", "received"), HOLDING)
def test_lines_held_by_active_rmas_cannot_be_removed(held_line, status, received):
    held_line(status, received)
    before = snapshot()
    document = spec_import_document()
    document["orders"][0]["lines"] = [import_line_data(2)]

    assert refused(document) == [
        "orders[0].lines: line 1 cannot be removed: active RMAs hold 2 of it"
        " (order TMSUS 3000179302)"
    ]
    assert snapshot() == before


@pytest.mark.parametrize(("status", "received"), RELEASING)
def test_released_quantities_may_shrink(held_line, status, received):
    line = held_line(status, received)
    document = spec_import_document()
    document["orders"][0]["lines"][0]["quantity"] = 1

    import_document(document)

    line.refresh_from_db()
    assert line.quantity == 1


def test_a_line_may_keep_exactly_the_held_quantity(held_line):
    line = held_line(RmaStatus.AUTHORIZED)
    document = spec_import_document()
    document["orders"][0]["lines"][0]["title"] = "Renamed"

    import_document(document)

    line.refresh_from_db()
    assert (line.quantity, line.title) == (2, "Renamed")


def test_a_missing_line_that_only_released_rmas_refer_to_is_kept_with_a_warning(held_line):
    line = held_line(RmaStatus.CANCELLED)
    document = spec_import_document()
    document["orders"][0]["lines"] = [import_line_data(2)]

    result = import_document(document)

    assert OrderLine.objects.filter(pk=line.pk).exists()
    assert result.lines.deleted == 0
    assert result.warnings == [
        "orders[0]: line 1 is not in the import but is kept because RMAs refer to it"
        " (order TMSUS 3000179302)"
    ]


def test_import_order_checks_the_body_against_the_url():
    import_document(spec_import_document())
    store = Store.objects.get()

    with pytest.raises(ImportValidationError) as raised:
        import_order(store=store, order_id="3000179302", data=import_order_data("OTHER"))

    assert raised.value.errors == ['order.order_id: "OTHER" does not match "3000179302" in the URL']


def test_import_order_fills_store_and_order_id_from_the_url():
    import_document(spec_import_document())
    store = Store.objects.get()
    data = import_order_data()
    del data["store"], data["order_id"]

    order, created = import_order(store=store, order_id="3000179555", data=data)

    assert created is True
    assert (order.store, order.order_id, order.lines.count()) == (store, "3000179555", 1)


def test_reimporting_many_orders_takes_no_query_per_order_or_line(
    django_assert_max_num_queries,
):
    document = {
        "orders": [
            import_order_data(
                f"{4000000000 + n}",
                lines=[import_line_data(number, supplier="ACME") for number in (1, 2, 3)],
            )
            for n in range(600)
        ]
    }
    import_document(spec_import_document())
    import_document(document)
    document["orders"][0]["lines"].pop()
    document["orders"][1]["status"] = "CLOSED"
    document["orders"][2]["lines"][0]["title"] = "Renamed"

    with django_assert_max_num_queries(15):
        result = import_document(document)

    assert (result.orders.updated, result.orders.unchanged) == (1, 599)
    assert (result.lines.updated, result.lines.deleted, result.lines.unchanged) == (1, 1, 1798)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def waits_for_me(pid: int, *, unless: threading.Event, deadline: float = 60.0) -> bool:
    """Poll until backend `pid` waits for a lock this connection holds; False if `unless`
    is set first (it finished without waiting) or at the deadline (a hang)."""
    give_up_at = time.monotonic() + deadline
    with connection.cursor() as cursor:
        while time.monotonic() < give_up_at and not unless.is_set():
            cursor.execute("SELECT pg_backend_pid() = ANY(pg_blocking_pids(%s))", [pid])
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_waits_for_an_rma_request_holding_the_order_lock():
    """The RMA request service locks the order row; an import that would shrink a line
    must wait for it and then see the quantity the new RMA holds."""
    import_document(spec_import_document())
    line = OrderLine.objects.get()
    importer_pid = backend_pid()
    locked, imported = threading.Event(), threading.Event()
    importer_waited = []

    def request_rma():
        try:
            with transaction.atomic():
                Order.objects.select_for_update().get(pk=line.order_id)
                locked.set()
                # Hold the lock until the import is seen waiting for it (not for a while).
                importer_waited.append(waits_for_me(importer_pid, unless=imported))
                rma = RmaFactory(order=line.order, status=RmaStatus.AUTHORIZED)
                RmaLineFactory(rma=rma, order_line=line, quantity=2)
        finally:
            connection.close()

    requester = threading.Thread(target=request_rma)
    requester.start()
    assert locked.wait(timeout=30)
    document = spec_import_document()
    document["orders"][0]["lines"][0]["quantity"] = 1

    try:
        errors = refused(document)
    finally:
        imported.set()
        requester.join(timeout=60)

    assert importer_waited == [True], "the import waited for the request's lock"
    assert errors == [
        "orders[0].lines[0].quantity: line 1 cannot go down to 1: active RMAs hold 2 of it"
        " (order TMSUS 3000179302)"
    ]
    line.refresh_from_db()
    assert line.quantity == 2


def _paths(value, path=()):
    """Every (container path, key) of a JSON document, for replacing one value."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        yield (*path, key)
        if isinstance(item, dict | list):
            yield from _paths(item, (*path, key))


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.floats()
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=6,
)
EXAMPLE_PATHS = list(_paths(spec_import_document()))


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(EXAMPLE_PATHS), value=JSON_VALUES)
def test_any_value_anywhere_is_imported_or_refused_cleanly(path, value):
    """No value, however odd, makes the import fail with anything but a list of errors."""
    document = spec_import_document()
    container = document
    for key in path[:-1]:
        container = container[key]
    container[path[-1]] = value
    with transaction.atomic():
        try:
            import_document(document)
        except ImportValidationError as error:
            assert error.errors
            assert all(isinstance(message, str) for message in error.errors)
        transaction.set_rollback(True)

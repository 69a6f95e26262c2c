"""Prepared querysets (rma/prepared.py) return what the queryset would, compiled once;
prepared inserts write what `bulk_create` would."""

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F, signals
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rma import apikeys, selectors
from rma.apikeys import api_key_authenticate, api_key_create
from rma.models import Order, OrderLine, Rma, RmaEvent
from rma.prepared import Prepared, insert
from rma.selectors import (
    order_for_eligibility,
    order_for_eligibility_by_store_code,
    orders_for_eligibility,
    store_key_and_order_for_eligibility,
    with_eligibility_lines,
)
from tests.factories import (
    EligibilityOverrideFactory,
    OrderFactory,
    OrderLineFactory,
    RmaFactory,
    RmaLineFactory,
    StoreFactory,
    SupplierFactory,
)

pytestmark = pytest.mark.django_db


class Counting:
    """A queryset builder that counts how often it is called."""

    def __init__(self, build):
        self.build, self.calls = build, 0

    def __call__(self, **values):
        self.calls += 1
        return self.build(**values)


def orders_of(*, store_id, order_id):
    return (
        Order.objects.select_related("store")
        .annotate(store_name=F("store__name"))
        .filter(store_id=store_id, order_id=order_id)
    )


def test_runs_return_the_querysets_rows_with_related_rows_and_annotations():
    first, second = OrderFactory(order_id="A-1"), OrderFactory(order_id="B-2")
    prepared = Prepared(orders_of, store_id=int, order_id=str)

    for order in (first, second, first):
        [found] = prepared.run(store_id=order.store_id, order_id=order.order_id)
        assert found.pk == order.pk
        assert found.store_name == order.store.name
        with CaptureQueriesContext(connection) as queries:
            assert found.store.code == order.store.code  # came with the row
        assert len(queries) == 0
    assert prepared.run(store_id=first.store_id, order_id="B-2") == []


def test_the_queryset_is_built_and_compiled_once():
    order = OrderFactory()
    build = Counting(orders_of)
    prepared = Prepared(build, store_id=int, order_id=str)

    for _ in range(3):
        assert prepared.run(store_id=order.store_id, order_id=order.order_id) == [order]

    assert build.calls == 1


def test_a_value_of_another_type_is_run_as_an_ordinary_queryset():
    OrderFactory(order_id="A-1")
    build = Counting(orders_of)
    prepared = Prepared(build, store_id=int, order_id=str)
    prepared.run(store_id=1, order_id="A-1")

    # None would compile to IS NULL, a different statement.
    assert prepared.run(store_id=1, order_id=None) == []
    assert build.calls == 2


def test_a_statement_shaped_by_its_values_is_never_replayed():
    order = OrderFactory(order_id="A-1")
    # The value appears twice in the statement: no single place to put it.
    build = Counting(
        lambda *, order_id: Order.objects.filter(order_id=order_id, customer_name__gte=order_id)
    )
    prepared = Prepared(build, order_id=str)

    assert prepared.run(order_id="A-1") == list(
        Order.objects.filter(order_id="A-1", customer_name__gte="A-1")
    )
    prepared.run(order_id=order.order_id)
    assert build.calls == 3  # the probe, then every run


def test_order_for_eligibility_matches_the_queryset_it_replaces():
    store = StoreFactory()
    order = OrderFactory(store=store)
    for number in (2, 1, 3):
        line = OrderLineFactory(order=order, line_number=number, quantity=3)
        EligibilityOverrideFactory(order_line=line)
    RmaLineFactory(rma=RmaFactory(order=order), order_line=order.lines.get(line_number=1))

    expected = orders_for_eligibility().filter(store=store, order_id=order.order_id).first()
    fetched = order_for_eligibility(store=store, order_id=order.order_id)

    assert fetched.pk == expected.pk
    assert fetched.customer_return_moments == expected.customer_return_moments
    with CaptureQueriesContext(connection) as queries:
        lines = list(fetched.lines.all())
        assert all(line.order is fetched for line in lines)
    assert len(queries) == 0
    assert [
        (line.line_number, line.held_quantity, [o.pk for o in line.all_overrides]) for line in lines
    ] == [
        (line.line_number, line.held_quantity, [o.pk for o in line.all_overrides])
        for line in expected.lines.all()
    ]
    assert [line.line_number for line in lines] == [1, 2, 3]
    # Replayed, not rebuilt: both statements compiled with a place for every value.
    for prepared in (selectors._ORDER_FOR_ELIGIBILITY, selectors._LINES_FOR_ELIGIBILITY):
        assert prepared._compiled("default") is not None
    assert order_for_eligibility(store=store, order_id="no such order") is None
    assert order_for_eligibility(store=StoreFactory(), order_id=order.order_id) is None


def test_by_store_code_an_order_not_among_those_given_is_none_without_reading_lines():
    order = OrderFactory()
    OrderLineFactory(order=order, line_number=1)
    code = order.store.code

    fetched = order_for_eligibility_by_store_code(
        store_code=code, order_id=order.order_id, among=[order.pk]
    )
    assert fetched.pk == order.pk and [line.line_number for line in fetched.lines.all()] == [1]
    with CaptureQueriesContext(connection) as queries:
        assert (
            order_for_eligibility_by_store_code(
                store_code=code, order_id=order.order_id, among=[order.pk + 1]
            )
            is None
        )
    assert len(queries) == 1
    assert order_for_eligibility_by_store_code(store_code="OTHER", order_id=order.order_id) is None


def test_an_integer_placeholder_fits_a_32_bit_column():
    line = OrderLineFactory(line_number=7)
    build = Counting(lambda *, number: OrderLine.objects.filter(line_number=number))
    prepared = Prepared(build, number=int)

    assert prepared.run(number=7) == [line]
    assert prepared.run(number=8) == []
    assert build.calls == 1


def test_the_api_key_statement_is_replayed():
    api_key, raw_key = api_key_create(store=StoreFactory(code="KEYS"), name="test")

    store, found = api_key_authenticate(store_code="KEYS", raw_key=raw_key)

    assert (store.code, found.pk) == ("KEYS", api_key.pk)
    assert apikeys._STORE_WITH_KEY._compiled("default") is not None


def loaded(instance) -> dict:
    """An instance's values, how it was loaded, and what came with it, nested."""
    values = {name: value for name, value in vars(instance).items() if name != "_state"}
    state = instance._state
    cached = {name: loaded(value) if value else value for name, value in state.fields_cache.items()}
    return {
        "class": type(instance),
        "values": values,
        "state": (state.adding, state.db),
        "cached": cached,
    }


def test_instances_are_those_the_queryset_makes():
    store = StoreFactory()
    order = OrderFactory(store=store)
    dropship = OrderLineFactory(order=order, line_number=1, supplier=SupplierFactory(store=store))
    OrderLineFactory(order=order, line_number=2)
    EligibilityOverrideFactory(order_line=dropship)
    EligibilityOverrideFactory(order_line=dropship, code="RMA 1019")
    RmaLineFactory(rma=RmaFactory(order=order), order_line=dropship)
    expected = list(selectors.order_lines_for_eligibility().filter(order_id=order.pk))

    lines = selectors._LINES_FOR_ELIGIBILITY.run(order_pk=order.pk)

    assert [loaded(line) for line in lines] == [loaded(line) for line in expected]
    assert [[loaded(override) for override in line.all_overrides] for line in lines] == [
        [loaded(override) for override in line.all_overrides] for line in expected
    ]
    assert lines[0].held_quantity == 1 and lines[0].supplier.store_id == store.pk
    assert lines[1].supplier is None
    # Built without ModelIterable.
    assert selectors._LINES_FOR_ELIGIBILITY._compiled("default").instance is not None


def test_the_api_keys_store_and_key_are_those_the_queryset_makes():
    store = StoreFactory(code="KEYS")
    api_key, raw_key = api_key_create(store=store, name="test")
    prefix = raw_key[: apikeys.PREFIX_LENGTH]

    for sent in (prefix, "rp_unknown"):
        [found] = apikeys._STORE_WITH_KEY.run(store_code="KEYS", prefix=sent)
        [expected] = apikeys._STORE_WITH_KEY.build(store_code="KEYS", prefix=sent)
        assert loaded(found) == loaded(expected)
        assert getattr(found, "matching_key", None) == getattr(expected, "matching_key", None)
        if sent == prefix:
            assert found.matching_key.pk == api_key.pk
            assert loaded(found.matching_key) == loaded(expected.matching_key)
    assert apikeys._STORE_WITH_KEY._compiled("default").instance is not None


def test_a_model_with_init_receivers_is_read_as_the_queryset_reads_it():
    order = OrderFactory(order_id="A-1")
    initialised = []

    def receiver(sender, instance, **kwargs):
        initialised.append(instance)

    prepared = Prepared(orders_of, store_id=int, order_id=str)
    signals.post_init.connect(receiver, sender=Order)
    try:
        [found] = prepared.run(store_id=order.store_id, order_id="A-1")
    finally:
        signals.post_init.disconnect(receiver, sender=Order)

    assert found in initialised and found.store_name == order.store.name
    assert prepared._compiled("default").instance is None


def field_values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.fields}


def test_the_order_read_with_the_store_and_key_is_the_order_for_eligibility():
    # A policy with rules: the customer's earlier returns are read with the order.
    rule = {"name": "VIP", "when": [{"field": "customer_tag", "op": "in", "value": ["VIP"]}]}
    store = StoreFactory(code="KEYS", policy={"rules": [{**rule, "then": []}]})
    order = OrderFactory(store=store, order_id="A-1")
    OrderLineFactory(order=order, line_number=1)
    RmaFactory(order=OrderFactory(store=store, customer_email=order.customer_email.upper()))
    api_key, raw_key = api_key_create(store=store, name="test")
    expected = order_for_eligibility(store=store, order_id="A-1")

    with CaptureQueriesContext(connection) as queries:
        found, key, fetched = store_key_and_order_for_eligibility(
            store_code="KEYS", raw_key=raw_key, order_id="A-1"
        )
    assert len(queries) == 2  # the store, key and order; the key's first use recorded

    assert (found, key, fetched) == (store, api_key, order)
    assert field_values(fetched) == field_values(expected)
    assert field_values(fetched.store) == field_values(expected.store)
    assert fetched.store is found
    assert len(fetched.customer_return_moments) == 1
    assert fetched.customer_return_moments == expected.customer_return_moments
    lines = list(with_eligibility_lines(fetched).lines.all())
    assert all(line.order is fetched for line in lines)
    assert [(field_values(line), line.held_quantity, line.all_overrides) for line in lines] == [
        (field_values(line), line.held_quantity, line.all_overrides)
        for line in expected.lines.all()
    ]
    assert selectors._STORE_KEY_AND_ORDER._compiled("default").instance is not None
    assert store_key_and_order_for_eligibility(
        store_code="KEYS", raw_key=raw_key, order_id="B-2"
    ) == (store, api_key, None)


def prepared_statements() -> list[str]:
    """The statements PostgreSQL holds prepared for this connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
def test_postgresql_prepares_a_statement_once_per_connection():
    first, second = OrderFactory(order_id="A-1"), OrderFactory(order_id="B-2")
    prepared = Prepared(orders_of, store_id=int, order_id=str)

    for order in (first, second, first):
        [found] = prepared.run(store_id=order.store_id, order_id=order.order_id)
        assert (found.pk, found.store_name) == (order.pk, order.store.name)

    ours = [sql for sql in prepared_statements() if '"store_name"' in sql]
    assert len(ours) == 1 and "$1" in ours[0]


@pytest.mark.postgres
def test_while_django_logs_queries_a_run_is_logged_with_its_values_unprepared():
    order = OrderFactory(order_id="A-1")
    prepared = Prepared(orders_of, store_id=int, order_id=str)

    with CaptureQueriesContext(connection) as queries:
        [found] = prepared.run(store_id=order.store_id, order_id="A-1")

    assert found.pk == order.pk
    assert "'A-1'" in queries[0]["sql"]
    assert not [sql for sql in prepared_statements() if '"store_name"' in sql]


NOW = timezone.now()


def new_rma(order, now=NOW, **fields) -> Rma:
    return Rma(
        store=order.store,
        order=order,
        rma_number=fields.pop("rma_number", f"TEST-{uuid.uuid4().hex[:9]}"),
        status="AUTHORIZED",
        request_group=uuid.uuid4(),
        authorized_at=now,
        expires_at=now + dt.timedelta(days=30),
        rule_decisions=[{"rule": "keep"}],
        **fields,
    )


def stored(model, pk) -> dict:
    """A row's values, but for what differs between two inserts of the same instance."""
    row = model.objects.filter(pk=pk).values().get()
    return {
        name: value
        for name, value in row.items()
        if name not in {"id", "rma_number", "request_group", "created_at", "updated_at"}
    }


def test_an_insert_writes_the_row_bulk_create_writes_and_sets_the_key():
    order = OrderFactory()
    ours, django = new_rma(order, source_name="OMS"), new_rma(order, source_name="OMS")

    assert insert([ours]) == [ours]
    [django] = Rma.objects.bulk_create([django])

    assert ours.pk and not ours._state.adding and ours._state.db == "default"
    assert ours.created_at and ours.updated_at  # auto_now_add and auto_now, as Django sets them
    assert stored(Rma, ours.pk) == stored(Rma, django.pk)


def test_rows_of_one_insert_keep_their_order_and_values():
    rma = RmaFactory()
    events = [
        RmaEvent(rma=rma, type=f"rma.{number}", actor_type="SYSTEM", data={"n": number})
        for number in range(3)
    ]

    insert(events)

    stored_events = RmaEvent.objects.filter(rma=rma).order_by("pk")
    assert [(event.pk, event.type, event.data) for event in stored_events] == [
        (event.pk, event.type, event.data) for event in events
    ]
    assert insert([]) == []


def test_a_taken_unique_value_is_djangos_integrity_error():
    taken = RmaFactory()

    with pytest.raises(IntegrityError, match="rma_number"), transaction.atomic():
        insert([new_rma(taken.order, rma_number=taken.rma_number)])


@pytest.mark.postgres
def test_postgresql_prepares_an_insert_once_per_connection():
    order = OrderFactory()

    def ours():
        return [sql for sql in prepared_statements() if sql.startswith('INSERT INTO "rma_rma"')]

    insert([new_rma(order)])
    prepared = ours()
    insert([new_rma(order)])

    assert ours() == prepared and all("$1" in sql for sql in prepared)
    assert prepared

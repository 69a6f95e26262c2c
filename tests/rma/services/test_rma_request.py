"""The one request service: eligibility under lock, one RMA per destination, follow-ups."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rma.eligibility import evaluate_order
from rma.errors import RequestError, RmaError
from rma.models import Notification, Rma, RmaEvent, RmaLine, RmaStatus, WebhookDelivery
from rma.selectors import orders_for_eligibility, rmas_with_lines
from rma.services.actors import Actor
from rma.services.rma_request import RequestContext, RequestedLine, rma_request
from rma.services.rma_resolve import LineResolution, rma_resolve
from tests.factories import (
    EligibilityOverrideFactory,
    OrderFactory,
    OrderLineFactory,
    RmaFactory,
    RmaLineFactory,
    StoreFactory,
    SupplierFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db


def request(order, *lines, resolution="REFUND", channel="PORTAL"):
    return rma_request(
        order=order,
        lines=list(lines),
        resolution=resolution,
        actor=Actor.shopper(order.customer_email),
        channel=channel,
    )


@pytest.fixture
def order():
    line = OrderLineFactory(line_number=1, quantity=2)
    OrderLineFactory(order=line.order, line_number=2, quantity=1)
    return line.order


def test_eligible_request_is_authorized_with_events_and_confirmation(
    order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        [rma] = request(order, RequestedLine(1, 2, "TOO_SMALL"))
    assert rma.status == RmaStatus.AUTHORIZED
    assert rma.expires_at is not None
    assert [line.quantity for line in rma.lines.all()] == [2]
    assert list(rma.events.values_list("type", flat=True)) == ["rma.created", "rma.authorized"]
    assert Notification.objects.get().kind == "confirmation"
    assert callbacks, "label and email are enqueued after commit"


def test_reason_requiring_review_leaves_the_request_for_an_agent(order):
    order.store.policy = {
        "reasons": [
            {
                "code": "DAMAGED",
                "description": "Damaged",
                "seller_fault": True,
                "requires_review": True,
                "requires_photo": False,
            }
        ]
    }
    order.store.save()
    [rma] = request(order, RequestedLine(1, 1, "DAMAGED"))
    assert rma.status == RmaStatus.REQUESTED
    assert rma.expires_at is None
    assert Notification.objects.get().kind == "request_received"


def test_lines_for_different_destinations_make_one_rma_each_and_one_confirmation():
    store = StoreFactory()
    acme, bolt = SupplierFactory(store=store), SupplierFactory(store=store)
    order = OrderFactory(store=store)
    OrderLineFactory(order=order, line_number=1)
    OrderLineFactory(order=order, line_number=2, supplier=acme)
    OrderLineFactory(order=order, line_number=3, supplier=bolt)
    rmas = request(order, *(RequestedLine(n, 1, "TOO_SMALL") for n in (1, 2, 3)))
    assert [rma.supplier for rma in rmas] == [None, acme, bolt]
    assert len({rma.request_group for rma in rmas}) == 1
    confirmation = Notification.objects.get(kind="confirmation")
    assert confirmation.rma_ids == [rma.pk for rma in rmas]
    assert Notification.objects.filter(kind="supplier_notice").count() == 2


def test_every_failing_line_is_reported_and_nothing_is_written(order):
    order.lines.filter(line_number=2).update(final_sale=True)
    with pytest.raises(RmaError) as refused:
        request(
            order,
            RequestedLine(1, 3, "TOO_SMALL"),
            RequestedLine(2, 1, "TOO_SMALL"),
            RequestedLine(9, 1, "TOO_SMALL"),
        )
    failures = {(item.line_number, item.code) for item in refused.value.items}
    assert failures == {(1, "RMA 1007"), (2, "RMA 1019"), (9, "RMA 1005")}
    assert refused.value.code == "RMA 1005"
    assert not RmaEvent.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("quantity", [0, -1, 3])
def test_quantity_outside_the_returnable_range_is_1007(order, quantity):
    with pytest.raises(RmaError) as refused:
        request(order, RequestedLine(1, quantity, "TOO_SMALL"))
    assert refused.value.code == "RMA 1007"


def test_quantity_held_by_earlier_rmas_is_not_returnable_again(order):
    request(order, RequestedLine(1, 2, "TOO_SMALL"))
    with pytest.raises(RmaError) as refused:
        request(order, RequestedLine(1, 1, "TOO_SMALL"))
    assert [item.code for item in refused.value.items] == ["RMA 1007"]


def written_rows() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Rma, RmaLine, RmaEvent, Notification, WebhookDelivery)
    }


def test_quantity_taken_after_the_eligibility_was_read_is_refused_under_the_lock(
    order, django_capture_on_commit_callbacks
):
    """The shopper's page showed 2 returnable; before the form is sent another request
    takes both. Only the check made afresh under the order's lock can see it."""
    WebhookEndpointFactory(store=order.store)
    shown = orders_for_eligibility().get(pk=order.pk)  # what the order page evaluated
    [verdict] = [v for v in evaluate_order(shown, now=timezone.now()) if v.line_number == 1]
    assert (verdict.returnable_quantity, verdict.codes) == (2, ())
    meanwhile = RmaFactory(order=order)
    RmaLineFactory(rma=meanwhile, order_line=verdict.line, quantity=2)
    before = written_rows()

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RmaError) as refused:
        request(shown, RequestedLine(1, 1, "TOO_SMALL"))

    assert refused.value.code == "RMA 1007"
    assert [(item.line_number, item.code) for item in refused.value.items] == [(1, "RMA 1007")]
    assert written_rows() == before
    assert callbacks == []


def test_item_id_that_does_not_match_the_line_is_1005(order):
    with pytest.raises(RmaError) as refused:
        request(order, RequestedLine(1, 1, "TOO_SMALL", item_id="NOT-THIS"))
    assert refused.value.code == "RMA 1005"


@pytest.mark.parametrize(
    ("lines", "resolution", "field"),
    [
        ([], "REFUND", "lines"),
        ([RequestedLine(1, 1, "TOO_SMALL")], "REPAIR", "resolution"),
        ([RequestedLine(1, 1, "NO_SUCH_REASON")], "REFUND", "line-1-reason"),
        ([RequestedLine(1, 1, "TOO_SMALL"), RequestedLine(1, 1, "TOO_SMALL")], "REFUND", "lines"),
    ],
)
def test_requests_to_correct_name_the_field(order, lines, resolution, field):
    with pytest.raises(RequestError) as refused:
        request(order, *lines, resolution=resolution)
    assert refused.value.field == field
    assert not RmaEvent.objects.exists()


def test_photo_is_required_from_shoppers_when_the_reason_says_so(order):
    order.store.policy = {
        "reasons": [
            {
                "code": "BROKEN",
                "description": "Broken",
                "seller_fault": True,
                "requires_review": False,
                "requires_photo": True,
            }
        ]
    }
    order.store.save()
    with pytest.raises(RequestError) as refused:
        request(order, RequestedLine(1, 1, "BROKEN"))
    assert refused.value.field == "line-1-photo"
    [rma] = request(order, RequestedLine(1, 1, "BROKEN"), channel="API")
    assert rma.status == RmaStatus.AUTHORIZED


def test_overrides_that_made_a_line_returnable_are_recorded_in_the_event(order):
    line = order.lines.get(line_number=2)
    line.final_sale = True
    line.save()
    override = EligibilityOverrideFactory(
        order_line=line, code="RMA 1019", justification="Goodwill"
    )
    [rma] = request(order, RequestedLine(2, 1, "TOO_SMALL"))
    created = rma.events.get(type="rma.created")
    assert created.data["overrides"] == [
        {
            "line_number": 2,
            "code": "RMA 1019",
            "agent": override.agent_id,
            "justification": "Goodwill",
        }
    ]


def test_channel_details_join_the_created_event(order):
    [rma] = rma_request(
        order=order,
        lines=[RequestedLine(1, 1, "TOO_SMALL")],
        resolution="REFUND",
        actor=Actor.system("test"),
        channel="API",
        event_data={"api": {"sourceName": "POS"}},
    )
    assert rma.events.get(type="rma.created").data["api"] == {"sourceName": "POS"}


@pytest.fixture
def dropship_order():
    """Line 1 for the store's warehouse, lines 2 and 3 for one supplier."""
    store = StoreFactory()
    supplier = SupplierFactory(store=store)
    order = OrderFactory(store=store)
    OrderLineFactory(order=order, line_number=1, quantity=2)
    OrderLineFactory(order=order, line_number=2, supplier=supplier)
    OrderLineFactory(order=order, line_number=3, supplier=supplier)
    return order


def shape(rma) -> tuple:
    lines = [
        (line.pk, line.order_line.line_number, line.order_line.item_id, line.quantity)
        for line in rma.lines.all()
    ]
    return rma.pk, rma.rma_number, rma.supplier, rma.created_at, rma.expires_at, lines


def test_rmas_come_back_with_their_supplier_and_lines_as_read_from_the_database(
    dropship_order, django_assert_num_queries
):
    requested = (RequestedLine(n, 1, "TOO_SMALL") for n in (3, 1, 2))  # not in line order

    rmas = request(dropship_order, *requested)

    with django_assert_num_queries(0):
        returned = [shape(rma) for rma in rmas]
    fetched = rmas_with_lines().filter(order=dropship_order).order_by("created_at", "id")
    assert returned == [shape(rma) for rma in fetched]
    assert [[line[1] for line in rma[-1]] for rma in returned] == [[1], [2, 3]]


def test_a_request_reads_the_webhook_endpoints_once_and_inserts_its_emails(dropship_order):
    store = dropship_order.store
    everything = WebhookEndpointFactory(store=store)
    created_only = WebhookEndpointFactory(store=store, events=["rma.created"])
    WebhookEndpointFactory(store=store, active=False)
    WebhookEndpointFactory()  # another store's

    with CaptureQueriesContext(connection) as captured:
        rmas = request(dropship_order, *(RequestedLine(n, 1, "TOO_SMALL") for n in (1, 2)))

    statements = [query["sql"] for query in captured.captured_queries]
    assert sum('FROM "rma_webhookendpoint"' in sql for sql in statements) == 1
    assert not any('FROM "rma_notification"' in sql for sql in statements)  # no look-up
    deliveries = {
        (delivery.endpoint_id, delivery.rma_id, delivery.event)
        for delivery in WebhookDelivery.objects.all()
    }
    assert deliveries == {
        *(
            (everything.pk, rma.pk, event)
            for rma in rmas
            for event in ("rma.created", "rma.authorized")
        ),
        *((created_only.pk, rma.pk, "rma.created") for rma in rmas),
    }
    kinds = sorted(Notification.objects.values_list("kind", flat=True))
    assert kinds == ["confirmation", "supplier_notice"]


def test_without_a_savepoint_the_request_joins_the_callers_transaction(order):
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        rma_request(
            order=order,
            lines=[RequestedLine(1, 1, "TOO_SMALL")],
            resolution="REFUND",
            actor=Actor.system("test"),
            channel="API",
            savepoint=False,
        )

    savepoints = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 1  # the caller's own (the test runs in a transaction)


def test_items_received_at_a_counter_are_received_at_once_without_a_label(
    order, django_capture_on_commit_callbacks, settings
):
    settings.LABEL_SERVICE = "builtin"
    with django_capture_on_commit_callbacks():
        [rma] = rma_request(
            order=order,
            lines=[RequestedLine(1, 2, "TOO_SMALL")],
            resolution="REFUND",
            actor=Actor.system("counter"),
            channel="API",
            items_received=True,
            context=RequestContext(return_type="InStore", source_location_id="100801"),
        )
    rma.refresh_from_db()
    assert rma.status == RmaStatus.RECEIVED
    assert rma.label_status == "NOT_REQUIRED"
    assert rma.received_at is not None and rma.authorized_at is not None
    assert (rma.return_type, rma.source_location_id) == ("InStore", "100801")
    [line] = rma.lines.all()
    assert (line.received_quantity, line.condition, line.disposition) == (2, "UNINSPECTED", "")
    assert list(rma.events.values_list("type", flat=True)) == [
        "rma.created",
        "rma.authorized",
        "rma.received",
    ]
    received = rma.events.get(type="rma.received").data
    assert (received["from"], received["to"], received["at_counter"]) == (
        "AUTHORIZED",
        "RECEIVED",
        True,
    )
    # Each line as a parcel scanned at the warehouse records it.
    assert received["lines"] == [
        {
            "line_number": line.order_line.line_number,
            "item_id": line.order_line.item_id,
            "quantity": line.quantity,
            "received_quantity": 2,
            "condition": "UNINSPECTED",
            "disposition": "",
            "units": [],
        }
    ]
    # The shopper hears the goods were received; no confirmation, no label task.
    assert list(Notification.objects.values_list("kind", flat=True)) == ["received_at_counter"]


def test_items_received_skip_the_review_a_reason_asks_for(order):
    order.store.policy = {
        "reasons": [{"code": "DAMAGED", "description": "Damaged", "requires_review": True}]
    }
    order.store.save()
    [rma] = rma_request(
        order=order,
        lines=[RequestedLine(1, 1, "DAMAGED")],
        resolution="REFUND",
        actor=Actor.system("counter"),
        channel="API",
        items_received=True,
    )
    assert rma.status == RmaStatus.RECEIVED


def test_unconfigured_reason_is_kept_with_the_callers_words_only_when_allowed(order):
    line = RequestedLine(
        1, 1, "CDE", reason_category="CDE", reason_description="Cancelled Data Entry Error"
    )
    with pytest.raises(RequestError):
        request(order, line, channel="API")
    [rma] = rma_request(
        order=order,
        lines=[line],
        resolution="REFUND",
        actor=Actor.system("oms"),
        channel="API",
        unconfigured_reasons=True,
    )
    assert rma.status == RmaStatus.AUTHORIZED  # no review for a code the store has not set
    stored = rma.lines.get()
    assert (stored.reason_code, stored.reason_category, stored.reason_description) == (
        "CDE",
        "CDE",
        "Cancelled Data Entry Error",
    )


def test_a_counter_return_is_resolved_as_received_its_lines_left_uninspected(order):
    order.store.policy = {"restocking_fee_percent": "10"}
    order.store.save()
    order.lines.filter(line_number=1).update(unit_price="20.00")
    [rma] = rma_request(
        order=order,
        lines=[RequestedLine(1, 1, "CDE", reason_description="Cancelled Data Entry Error")],
        resolution="REFUND",
        actor=Actor.system("counter"),
        channel="API",
        items_received=True,
        unconfigured_reasons=True,
    )
    [line] = rma.lines.all()
    rma_resolve(rma=rma, actor=Actor.system("agent"), lines=[LineResolution(line.pk, "REFUND")])
    line.refresh_from_db()
    assert line.condition == "UNINSPECTED"
    # An unconfigured reason is not the seller's fault: the restocking fee applies.
    assert (str(line.refund_amount), str(line.restocking_fee)) == ("18.00", "2.00")


def test_a_taken_rma_number_is_drawn_again(order, monkeypatch):
    taken = RmaFactory(order=order).rma_number
    drawn = iter([taken, "NEWN-UMBE-R2AB"])
    monkeypatch.setattr("rma.services.rma_request.new_rma_number", lambda: next(drawn))
    [rma] = request(order, RequestedLine(1, 1, "TOO_SMALL"))
    assert rma.rma_number == "NEWN-UMBE-R2AB"
    assert RmaEvent.objects.filter(rma=rma, type="rma.created").count() == 1

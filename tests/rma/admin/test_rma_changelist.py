"""The RMA list: search by number as people type it, work queues with counts, read-only rows."""

import pytest
from django.urls import reverse

from rma.models import LabelStatus, Notification, RmaStatus, WebhookDelivery, WebhookEndpoint
from rma.services.actors import Actor
from rma.services.events import record_event
from tests.factories import OrderFactory, RmaFactory, RmaLineFactory, StoreFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:rma_rma_changelist")


def listed(client, **params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return {rma.rma_number for rma in response.context["cl"].result_list}


@pytest.fixture
def client(agent, login):
    return login(agent)


@pytest.fixture
def rma():
    RmaFactory()  # another RMA that must not match
    return RmaFactory(
        order=OrderFactory(order_id="SO-77812", customer_email="Grace.Hopper@Example.com")
    )


@pytest.mark.parametrize(
    "typed",
    [
        lambda number: number,
        lambda number: number.replace("-", ""),
        lambda number: number.lower(),
        lambda number: f"  {number.replace('-', ' ').lower()} ",
    ],
    ids=["canonical", "no-hyphens", "lowercase", "spaces-lowercase"],
)
def test_search_by_rma_number_as_typed(client, rma, typed):
    assert listed(client, q=typed(rma.rma_number)) == {rma.rma_number}


def test_a_mistyped_rma_number_matches_nothing(client, rma):
    number = rma.rma_number
    wrong = number[:-1] + ("A" if number[-1] != "A" else "B")
    assert listed(client, q=wrong) == set()


@pytest.mark.parametrize("term", ["SO-77812", "so-77812", "grace.hopper@example.com"])
def test_search_by_order_number_or_email_exactly_ignoring_case(client, rma, term):
    assert listed(client, q=term) == {rma.rma_number}


def test_search_is_exact_not_a_substring_scan(client, rma):
    assert listed(client, q="77812") == set()
    assert listed(client, q="hopper") == set()


@pytest.fixture
def queues():
    store = StoreFactory()

    def make(status, label=LabelStatus.ISSUED):
        return RmaFactory(order__store=store, status=status, label_status=label).rma_number

    return {
        "review": {make(RmaStatus.REQUESTED), make(RmaStatus.REQUESTED, LabelStatus.PENDING)},
        "label-failed": {make(RmaStatus.AUTHORIZED, LabelStatus.FAILED)},
        "receipt-only": {make(RmaStatus.AUTHORIZED), make(RmaStatus.AUTHORIZED)},
        "unresolved": {make(RmaStatus.RECEIVED)},
        "done": {make(RmaStatus.RESOLVED), make(RmaStatus.CANCELLED), make(RmaStatus.EXPIRED)},
        "store": store,
    }


def test_work_queues_filter_the_list(client, queues):
    assert listed(client, queue="review") == queues["review"]
    assert listed(client, queue="label-failed") == queues["label-failed"]
    # Awaiting receipt is every authorized RMA, the ones whose label failed too.
    assert listed(client, queue="receipt") == queues["receipt-only"] | queues["label-failed"]
    assert listed(client, queue="unresolved") == queues["unresolved"]


def test_work_queues_show_their_counts(client, queues):
    RmaFactory(status=RmaStatus.REQUESTED)  # another store: counted unless a store is chosen
    response = client.get(CHANGELIST)
    text = response.content.decode()
    assert "Awaiting review (3)" in text
    assert "Label failed (1)" in text
    assert "Awaiting receipt (3)" in text
    assert "Received, not resolved (1)" in text
    one_store = client.get(CHANGELIST, {"store__id__exact": queues["store"].pk}).content.decode()
    assert "Awaiting review (2)" in one_store


def test_filters_by_status_label_status_and_store(client, queues):
    resolved = RmaFactory(order__store=queues["store"], status=RmaStatus.RESOLVED)
    assert resolved.rma_number in listed(client, status__exact="RESOLVED")
    assert listed(client, status__exact="RECEIVED") == queues["unresolved"]
    assert listed(client, label_status__exact="FAILED") == queues["label-failed"]
    RmaFactory()  # another store
    assert len(listed(client, store__id__exact=queues["store"].pk)) == 10


def test_list_columns_and_no_add_button(client, rma):
    response = client.get(CHANGELIST)
    text = response.content.decode()
    assert reverse("admin:rma_rma_add") not in text
    assert rma.order.order_id in text
    assert response.context["cl"].list_display[1:] == [
        "rma_number",
        "order_link",
        "store_code",
        "status",
        "label_status",
        "channel",
        "created_local",
    ]


def test_nobody_adds_edits_or_deletes_rmas_by_hand(make_staff, login, rma):
    superuser = login(make_staff(None, is_superuser=True))
    assert superuser.get(reverse("admin:rma_rma_add")).status_code == 403
    assert superuser.get(reverse("admin:rma_rma_delete", args=[rma.pk])).status_code == 403
    page = superuser.get(reverse("admin:rma_rma_change", args=[rma.pk]))
    assert page.status_code == 200
    # A view-only page: the form has no input for status or timestamps.
    assert 'name="status"' not in page.content.decode()
    assert 'name="created_at' not in page.content.decode()
    posted = superuser.post(
        reverse("admin:rma_rma_change", args=[rma.pk]), {"status": RmaStatus.RESOLVED}
    )
    assert posted.status_code == 403
    rma.refresh_from_db()
    assert rma.status == RmaStatus.AUTHORIZED


def test_detail_page_shows_lines_timeline_emails_and_webhooks(client, agent, settings):
    rma = RmaFactory(status=RmaStatus.REQUESTED)
    line = RmaLineFactory(rma=rma, reason_code="TOO_LARGE")
    record_event(rma=rma, type="rma.created", actor=Actor.shopper("ada@example.com"))
    endpoint = WebhookEndpoint.objects.create(
        store=rma.store, url="https://hooks.example/x", secret="s"
    )
    WebhookDelivery.objects.create(endpoint=endpoint, rma=rma, event="rma.created", payload={})
    Notification.objects.create(
        rma=rma,
        rma_ids=[rma.pk],
        kind="request_received",
        recipient="ada@example.com",
        idempotency_key="k1",
    )
    # A confirmation covering this RMA but hanging off its sibling of the same request.
    sibling = RmaFactory(order=rma.order, request_group=rma.request_group)
    Notification.objects.create(
        rma=sibling,
        rma_ids=[sibling.pk, rma.pk],
        kind="confirmation",
        recipient="ada@example.com",
        idempotency_key="k2",
    )
    client.post(reverse("admin:rma_rma_operation", args=[rma.pk, "approve"]))

    response = client.get(reverse("admin:rma_rma_change", args=[rma.pk]))
    text = response.content.decode()
    assert line.order_line.item_id in text and "TOO_LARGE" in text
    events = [(row["event"].type, row["who"]) for row in response.context["rma_events"]]
    assert events == [
        ("rma.created", "Shopper: ada@example.com"),
        ("rma.authorized", "Agent: agnes"),
    ]
    assert {n.kind for n in response.context["rma_notifications"]} >= {
        "request_received",
        "confirmation",
    }
    assert [d.event for d in response.context["rma_deliveries"]] == [
        "rma.created",
        "rma.authorized",
    ]
    assert "https://hooks.example/x" in text


def test_detail_page_offers_the_buttons_the_user_may_use(client, warehouse, login):
    rma = RmaFactory(status=RmaStatus.REQUESTED)
    names = [
        item["operation"].name
        for item in client.get(reverse("admin:rma_rma_change", args=[rma.pk])).context[
            "rma_operations"
        ]
    ]
    assert names == ["approve", "reject", "cancel"]
    page = login(warehouse).get(reverse("admin:rma_rma_change", args=[rma.pk]))
    assert page.context["rma_operations"] == []
    assert page.context["rma_notifications"] is None  # warehouse does not see emails


def test_label_link_when_the_label_is_issued(client):
    rma = RmaFactory(status=RmaStatus.AUTHORIZED, label_status=LabelStatus.ISSUED)
    text = client.get(reverse("admin:rma_rma_change", args=[rma.pk])).content.decode()
    assert "/labels/" in text and "Download label (PDF)" in text

"""The periodic expiry task: overdue AUTHORIZED returns expire and release their quantities."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import translation

from rma.eligibility import evaluate_order
from rma.models import ActorType, Notification, RmaEvent, RmaStatus, WebhookDelivery
from rma.selectors import order_for_eligibility
from rma.services.actors import Actor
from rma.services.rma_request import RequestedLine, rma_request
from rma.tasks import expire_overdue
from tests.factories import (
    OrderLineFactory,
    StoreFactory,
    WebhookEndpointFactory,
    rma_with_lines,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Emails built outside a request use the active language; other tests may leave one."""
    with translation.override("en"):
        yield


START = dt.datetime(2026, 11, 10, 12, 0, tzinfo=dt.UTC)
EXPIRY_DAYS = 30


@pytest.fixture(autouse=True)
def _no_labels(settings):
    settings.LABEL_SERVICE = "none"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def order(clock):
    store = StoreFactory(
        policy={"rma_expiry_days": EXPIRY_DAYS, "return_window_days": 90},
        name="The Model Store",
    )
    WebhookEndpointFactory(store=store)
    return OrderLineFactory(order__store=store, line_number=1, quantity=2).order


def request_everything(order):
    [rma] = rma_request(
        order=order,
        lines=[RequestedLine(1, 2, "TOO_SMALL")],
        resolution="REFUND",
        actor=Actor.shopper(order.customer_email),
        channel="PORTAL",
    )
    return rma


def returnable_quantity(order, now) -> int:
    fresh = order_for_eligibility(store=order.store, order_id=order.order_id)
    [verdict] = evaluate_order(fresh, now=now)
    return verdict.returnable_quantity


def test_overdue_authorized_return_expires_releases_quantity_and_tells_the_shopper(
    order, clock, django_capture_on_commit_callbacks
):
    rma = request_everything(order)
    assert rma.status == RmaStatus.AUTHORIZED
    assert rma.expires_at == START + dt.timedelta(days=EXPIRY_DAYS)
    assert returnable_quantity(order, START) == 0

    later = rma.expires_at + dt.timedelta(minutes=1)
    clock.move_to(later, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_overdue() == 1

    rma.refresh_from_db()
    assert rma.status == RmaStatus.EXPIRED
    event = rma.events.get(type="rma.expired")
    assert (event.actor_type, event.data) == (
        ActorType.SYSTEM,
        {"from": "AUTHORIZED", "to": "EXPIRED"},
    )
    assert WebhookDelivery.objects.filter(rma=rma, event="rma.expired").exists()
    assert returnable_quantity(order, later) == 2
    [email] = mail.outbox
    assert email.to == [order.customer_email]
    assert email.subject == f"The Model Store: Your return {rma.rma_number} has expired"
    assert "did not receive the parcel in time" in email.body
    assert Notification.objects.get(rma=rma, kind="expired").status == "SENT"

    again = request_everything(order)
    assert again.status == RmaStatus.AUTHORIZED, "the released quantity can be requested again"


def test_return_is_not_expired_before_its_expiry_moment(order, clock):
    rma = request_everything(order)
    clock.move_to(rma.expires_at, tick=False)
    assert expire_overdue() == 0
    rma.refresh_from_db()
    assert rma.status == RmaStatus.AUTHORIZED
    assert not RmaEvent.objects.filter(type="rma.expired").exists()
    assert not Notification.objects.filter(kind="expired").exists()


@pytest.mark.parametrize(
    "status", [s for s in RmaStatus.values if s != RmaStatus.AUTHORIZED], ids=str
)
def test_only_authorized_returns_expire(clock, status):
    rma = rma_with_lines(1, status=status, expires_at=START - dt.timedelta(days=1))
    assert expire_overdue() == 0
    rma.refresh_from_db()
    assert rma.status == status
    assert not RmaEvent.objects.exists()
    assert not Notification.objects.exists()


def test_a_repeated_run_expires_once_and_emails_once(
    order, clock, django_capture_on_commit_callbacks
):
    rma = request_everything(order)
    overdue = rma_with_lines(1, order__store=order.store, expires_at=START)
    fresh = rma_with_lines(1, order__store=order.store, expires_at=START + dt.timedelta(days=60))
    clock.move_to(START + dt.timedelta(days=EXPIRY_DAYS, hours=1), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_overdue() == 2
        assert expire_overdue() == 0
    assert RmaEvent.objects.filter(type="rma.expired").count() == 2
    assert sorted(email.subject.split()[-3] for email in mail.outbox) == sorted(
        [rma.rma_number, overdue.rma_number]
    )
    fresh.refresh_from_db()
    assert fresh.status == RmaStatus.AUTHORIZED

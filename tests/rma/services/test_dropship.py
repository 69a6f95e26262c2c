"""Dropship returns: the supplier is told, with the return label once it is issued."""

import pytest
from django.core import mail
from django.utils import translation

from rma.models import LabelStatus, Notification, RmaStatus
from rma.services.actors import Actor
from rma.services.notifications import notification_send
from rma.services.rma_request import RequestedLine, rma_request
from rma.services.rma_status import rma_approve
from tests.factories import (
    OrderFactory,
    OrderLineFactory,
    StoreFactory,
    SupplierFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Emails built outside a request use the active language; other tests may leave one."""
    with translation.override("en"):
        yield


@pytest.fixture
def supplier():
    store = StoreFactory(name="The Model Store")
    return SupplierFactory(store=store, code="ACME", name="Acme Drop", email="rma@acme.example")


@pytest.fixture
def order(supplier):
    order = OrderFactory(store=supplier.store)
    OrderLineFactory(order=order, line_number=1, item_id="OWN-1")
    OrderLineFactory(order=order, line_number=2, item_id="DROP-1", supplier=supplier)
    return order


def request(order, *line_numbers, reason="TOO_SMALL"):
    return rma_request(
        order=order,
        lines=[RequestedLine(number, 1, reason) for number in line_numbers],
        resolution="REFUND",
        actor=Actor.shopper(order.customer_email),
        channel="PORTAL",
    )


def emails_to(address):
    return [email for email in mail.outbox if address in email.to]


def test_supplier_gets_a_notice_with_the_issued_label(
    order, supplier, settings, django_capture_on_commit_callbacks
):
    settings.LABEL_SERVICE = "builtin"
    with django_capture_on_commit_callbacks(execute=True):
        own, dropship = request(order, 1, 2)
    dropship.refresh_from_db()
    assert (own.supplier, dropship.supplier) == (None, supplier)
    assert dropship.label_status == LabelStatus.ISSUED

    [notice] = emails_to("rma@acme.example")
    assert notice.subject == f"The Model Store: Return {dropship.rma_number} is on its way to you"
    assert "dropship items" in notice.body
    assert "Supplier Returns" in notice.body, "the supplier's own returns address"
    assert "DROP-1" in notice.body
    assert "OWN-1" not in notice.body, "the supplier hears only about its own lines"
    [(filename, content, mimetype)] = notice.attachments
    assert filename == f"return-label-{dropship.rma_number}.pdf"
    assert (mimetype, content[:5]) == ("application/pdf", b"%PDF-")

    [confirmation] = emails_to(order.customer_email)
    assert own.rma_number in confirmation.subject
    assert dropship.rma_number in confirmation.subject
    assert Notification.objects.get(kind="supplier_notice").rma_ids == [dropship.pk]


def test_supplier_notice_waits_for_the_label(order, supplier, settings):
    settings.LABEL_SERVICE = "builtin"
    [dropship] = request(order, 2)
    notice = Notification.objects.get(kind="supplier_notice")
    assert notice.recipient == supplier.email
    assert dropship.label_status == LabelStatus.PENDING
    assert notification_send(notification_id=notice.pk) is False
    assert mail.outbox == []


def test_without_labels_the_supplier_is_told_at_once(
    order, supplier, settings, django_capture_on_commit_callbacks
):
    settings.LABEL_SERVICE = "none"
    with django_capture_on_commit_callbacks(execute=True):
        request(order, 2)
    [notice] = emails_to(supplier.email)
    assert notice.attachments == []


def test_supplier_is_told_when_an_agent_approves_a_reviewed_request(
    order, supplier, settings, django_capture_on_commit_callbacks
):
    settings.LABEL_SERVICE = "none"
    order.store.policy = {
        "reasons": [{"code": "DAMAGED", "description": "Damaged", "requires_review": True}]
    }
    order.store.save()
    [dropship] = request(order, 2, reason="DAMAGED")
    assert dropship.status == RmaStatus.REQUESTED
    assert not Notification.objects.filter(kind="supplier_notice").exists()
    with django_capture_on_commit_callbacks(execute=True):
        rma_approve(rma=dropship, actor=Actor.agent(UserFactory()))
    assert len(emails_to(supplier.email)) == 1


def test_no_supplier_notice_for_the_stores_own_lines_or_a_supplier_without_email(
    order, supplier, settings
):
    settings.LABEL_SERVICE = "none"
    request(order, 1)
    supplier.email = ""
    supplier.save()
    request(order, 2)
    assert not Notification.objects.filter(kind="supplier_notice").exists()

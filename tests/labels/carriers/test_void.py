"""Voiding labels when a return is cancelled or expires: carriers refund, downloads stop,
a dropship supplier is told."""

import dataclasses
import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

import labels.services
from labels.links import label_token
from labels.models import RefundStatus, ReturnLabel
from labels.services import label_issue, label_refund, label_reissue
from rma.models import LabelStatus, Notification, RmaEvent, RmaStatus
from rma.services.actors import Actor
from rma.services.rma_status import rma_cancel, rma_expire
from tests.factories import SupplierFactory, UserFactory
from tests.labels.carriers.support import carrier_rma, issued_rma

pytestmark = pytest.mark.django_db


def download(client, rma):
    return client.get(reverse("labels:download", kwargs={"token": label_token(rma)}))


def test_cancel_voids_the_label_and_the_carrier_refunds_it_once(
    carrier, client, django_capture_on_commit_callbacks
):
    rma, label = issued_rma()
    assert download(client, rma).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        rma_cancel(rma=rma, actor=Actor.agent(UserFactory()), reason="Customer kept it")

    label.refresh_from_db()
    rma.refresh_from_db()
    assert rma.status == RmaStatus.CANCELLED
    assert (label.status, rma.label_status) == (LabelStatus.VOIDED, LabelStatus.VOIDED)
    assert label.voided_at is not None
    assert len(carrier.calls_to("refund")) == 1
    assert label.refund_status in (RefundStatus.SUBMITTED, RefundStatus.REFUNDED)
    assert download(client, rma).status_code == 404
    voided = RmaEvent.objects.get(rma=rma, type="rma.label_voided")
    assert voided.data["reason"] == "cancelled"
    assert RmaEvent.objects.filter(rma=rma, type="rma.label_refund").count() == 1

    # A redelivered refund task asks nothing more.
    assert label_refund(label_id=label.pk) is None
    assert len(carrier.calls_to("refund")) == 1


def test_easypost_refunds_the_shipment_it_sold(easypost, django_capture_on_commit_callbacks):
    rma, label = issued_rma()

    with django_capture_on_commit_callbacks(execute=True):
        rma_cancel(rma=rma, actor=Actor.system())

    [refund] = easypost.calls_to("refund")
    assert refund.path == f"/v2/shipments/{label.shipment_id}/refund"
    label.refresh_from_db()
    assert label.refund_status == RefundStatus.SUBMITTED


def test_shippo_refunds_the_transaction_it_sold(shippo, django_capture_on_commit_callbacks):
    rma, label = issued_rma()

    with django_capture_on_commit_callbacks(execute=True):
        rma_cancel(rma=rma, actor=Actor.system())

    [refund] = shippo.calls_to("refund")
    assert refund.body["transaction"] == label.carrier_label_id
    assert refund.body["async"] is False


def test_expiry_voids_and_refunds_the_label(carrier, django_capture_on_commit_callbacks):
    rma, label = issued_rma()

    with django_capture_on_commit_callbacks(execute=True):
        rma_expire(rma=rma)

    label.refresh_from_db()
    assert label.status == LabelStatus.VOIDED
    assert len(carrier.calls_to("refund")) == 1
    assert RmaEvent.objects.get(rma=rma, type="rma.label_voided").data["reason"] == "expired"


def test_a_refused_refund_is_recorded_for_an_agent(easypost, django_capture_on_commit_callbacks):
    rma, label = issued_rma()
    easypost.shipments[label.shipment_id]["refund_status"] = "submitted"  # refunded elsewhere

    with django_capture_on_commit_callbacks(execute=True):
        rma_cancel(rma=rma, actor=Actor.system())

    label.refresh_from_db()
    assert label.status == LabelStatus.VOIDED
    assert label.refund_status == RefundStatus.REJECTED
    assert "not refundable" in label.refund_error


@pytest.mark.parametrize("service", ["builtin", "http"])
def test_builtin_and_http_labels_are_only_marked_voided(
    service, settings, client, rma, fake_service, django_capture_on_commit_callbacks
):
    fake_service.name = service
    label = label_issue(rma_id=rma.pk)
    assert download(client, rma).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        rma_cancel(rma=rma, actor=Actor.shopper(rma.order.customer_email))

    label.refresh_from_db()
    assert label.status == LabelStatus.VOIDED
    assert label.refund_status == ""
    assert download(client, rma).status_code == 404


def test_cancel_without_a_label_changes_no_label(db, django_capture_on_commit_callbacks):
    rma = carrier_rma(status=RmaStatus.REQUESTED)

    with django_capture_on_commit_callbacks(execute=True):
        rma_cancel(rma=rma, actor=Actor.system())

    assert not ReturnLabel.objects.filter(rma=rma).exists()
    assert not RmaEvent.objects.filter(rma=rma, type="rma.label_voided").exists()


def test_a_label_bought_while_the_return_was_cancelled_is_refunded(
    easypost, monkeypatch, django_capture_on_commit_callbacks
):
    rma = carrier_rma()
    original = labels.services.label_request_for_rma

    def request_cancelled_during_purchase(*args, **kwargs):
        request = original(*args, **kwargs)

        def record_then_cancel(shipment_id):
            request.record_shipment(shipment_id)
            # The shopper cancels while the carrier is selling the label.
            rma_cancel(rma=rma, actor=Actor.shopper(rma.order.customer_email))

        return dataclasses.replace(request, record_shipment=record_then_cancel)

    monkeypatch.setattr(labels.services, "label_request_for_rma", request_cancelled_during_purchase)
    with django_capture_on_commit_callbacks(execute=True):
        assert label_issue(rma_id=rma.pk) is None

    label = ReturnLabel.objects.get(rma=rma)
    assert label.status == LabelStatus.VOIDED
    assert label.tracking_number and label.shipment_id
    assert len(easypost.purchases) == 1
    assert len(easypost.calls_to("refund")) == 1
    assert label.refund_status == RefundStatus.SUBMITTED
    assert not label.file


@pytest.mark.parametrize(
    ("end", "kind", "words"),
    [
        ("cancel", "supplier_cancelled", "has cancelled a return"),
        ("expire", "supplier_expired", "has expired unsent"),
    ],
)
def test_a_dropship_supplier_is_told_when_its_return_will_not_come(
    end, kind, words, easypost, django_capture_on_commit_callbacks
):
    supplier = SupplierFactory()
    rma, _ = issued_rma(supplier=supplier)
    Notification.objects.create(
        rma=rma,
        rma_ids=[rma.pk],
        kind="supplier_notice",
        recipient=supplier.email,
        idempotency_key=f"supplier_notice:rma:{rma.pk}",
    )

    with django_capture_on_commit_callbacks(execute=True):
        if end == "cancel":
            rma_cancel(rma=rma, actor=Actor.system())
        else:
            rma_expire(rma=rma)

    notice = Notification.objects.get(rma=rma, kind=kind)
    assert notice.recipient == supplier.email
    sent = [message for message in mail.outbox if message.to == [supplier.email]]
    assert len(sent) == 1
    assert rma.rma_number in sent[0].subject
    assert words in sent[0].body


def test_a_supplier_never_told_of_the_return_is_not_told_of_its_cancel(
    easypost, django_capture_on_commit_callbacks
):
    supplier = SupplierFactory()
    rma = carrier_rma(supplier=supplier, status=RmaStatus.REQUESTED)

    with django_capture_on_commit_callbacks(execute=True):
        rma_cancel(rma=rma, actor=Actor.system())

    assert not Notification.objects.filter(rma=rma, kind="supplier_cancelled").exists()
    assert [message.to for message in mail.outbox] == [[rma.order.customer_email]]


def test_the_sweeper_asks_again_for_a_refund_never_enqueued(easypost, time_machine):
    from labels.tasks import sweep_label_refunds

    rma, label = issued_rma()
    # Cancelled while the broker was down: voided, its refund never enqueued.
    rma_cancel(rma=rma, actor=Actor.system())
    label.refresh_from_db()
    assert label.refund_status == RefundStatus.PENDING
    assert sweep_label_refunds() == 0  # too recent: its own task may be on its way

    time_machine.move_to(label.voided_at + dt.timedelta(minutes=3))
    assert sweep_label_refunds.delay().get() == 1

    label.refresh_from_db()
    assert label.refund_status == RefundStatus.SUBMITTED
    assert len(easypost.calls_to("refund")) == 1
    assert sweep_label_refunds() == 0


def test_a_replaced_carrier_label_is_refunded(easypost, django_capture_on_commit_callbacks):
    rma, old = issued_rma()

    with django_capture_on_commit_callbacks(execute=True):
        label_reissue(rma=rma, actor_user=UserFactory(), reason="Label damaged")

    old.refresh_from_db()
    new = ReturnLabel.objects.get(rma=rma, status=LabelStatus.ISSUED)
    assert old.status == LabelStatus.VOIDED
    assert old.refund_status == RefundStatus.SUBMITTED
    assert [call.path for call in easypost.calls_to("refund")] == [
        f"/v2/shipments/{old.shipment_id}/refund"
    ]
    assert new.shipment_id != old.shipment_id
    assert len(easypost.purchases) == 2

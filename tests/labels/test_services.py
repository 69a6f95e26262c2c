"""Issuing, failing and re-issuing labels (labels.services)."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from labels.adapters import PermanentLabelError, TransientLabelError
from labels.models import ReturnLabel
from labels.services import label_fail, label_issue, label_reissue
from rma.errors import RequestError
from rma.models import ActorType, LabelStatus, Rma, RmaEvent, RmaStatus
from tests.factories import RmaFactory, SupplierFactory, UserFactory
from tests.labels.conftest import TINY_PDF, FakeLabelService, add_line

pytestmark = pytest.mark.django_db

# Seconds a thread of the concurrency test may wait: a bound for a hang, never a time limit.
BOUND = 60


def events(rma, type_):
    return list(RmaEvent.objects.filter(rma=rma, type=type_))


def test_issue_stores_the_pdf_and_mirrors_the_label_on_the_rma(rma, fake_service):
    label = label_issue(rma_id=rma.pk)

    rma.refresh_from_db()
    assert label.status == LabelStatus.ISSUED
    assert (label.carrier, label.tracking_number, label.service) == ("FAKE", "TRACK1", "fake")
    assert label.issued_at is not None
    assert label.attempts == 1
    assert rma.label_status == LabelStatus.ISSUED
    assert (rma.label_carrier, rma.label_tracking_number) == ("FAKE", "TRACK1")
    assert rma.label_file.name == label.file.name
    assert label.file.name.startswith("labels/")
    with default_storage.open(label.file.name, "rb") as stored:
        assert stored.read() == TINY_PDF + b"1"
    (event,) = events(rma, "rma.label_issued")
    assert event.actor_type == ActorType.SYSTEM
    assert event.data["trackingNumber"] == "TRACK1"


def test_issue_twice_issues_one_label(rma, fake_service):
    first = label_issue(rma_id=rma.pk)
    second = label_issue(rma_id=rma.pk)

    assert second.pk == first.pk
    assert len(fake_service.requests) == 1
    assert ReturnLabel.objects.filter(rma=rma).count() == 1
    assert len(events(rma, "rma.label_issued")) == 1


def test_service_is_asked_for_a_label_from_the_shopper_to_the_destination(rma, fake_service):
    supplier = SupplierFactory(store=rma.store)
    Rma.objects.filter(pk=rma.pk).update(supplier=supplier)

    label_issue(rma_id=rma.pk)

    (request,) = fake_service.requests
    order = rma.order
    assert request.rma_number == rma.rma_number
    assert (request.store_code, request.store_name) == (rma.store.code, rma.store.name)
    assert request.order_id == order.order_id
    assert request.from_address == {**order.shipping_address, "name": order.customer_name}
    assert request.to_address == supplier.return_address
    assert request.package["weight"] == "1.2"
    assert request.package["eligible"] is True


def test_store_warehouse_is_the_destination_without_a_supplier(rma, fake_service):
    label_issue(rma_id=rma.pk)
    assert fake_service.requests[0].to_address == rma.store.return_address


def test_ineligible_package_fails_without_calling_the_service(rma, fake_service):
    add_line(rma, weight=Decimal("60"))

    label = label_issue(rma_id=rma.pk)

    rma.refresh_from_db()
    assert fake_service.requests == []
    assert label.status == LabelStatus.FAILED
    assert rma.label_status == LabelStatus.FAILED
    assert rma.label_failure_reason == "RMA 1012 Weight exceeds limitations"
    (event,) = events(rma, "rma.label_failed")
    assert event.data["codes"] == ["RMA 1012"]
    assert events(rma, "rma.label_issued") == []
    # Settled: a repeated task neither calls the service nor writes again.
    assert label_issue(rma_id=rma.pk) is None
    assert len(events(rma, "rma.label_failed")) == 1


def test_every_failing_code_is_in_the_failure_reason(rma, fake_service):
    add_line(rma, weight=Decimal("0"), unit_price=Decimal("6000"), hazmat=True)
    label_issue(rma_id=rma.pk)
    rma.refresh_from_db()
    assert [part.split(" ", 2)[1] for part in rma.label_failure_reason.split("; ")] == [
        "1010",
        "1016",
    ]


def test_none_service_means_no_label_is_required(rma, settings):
    settings.LABEL_SERVICE = "none"

    assert label_issue(rma_id=rma.pk) is None

    rma.refresh_from_db()
    assert rma.label_status == LabelStatus.NOT_REQUIRED
    assert not ReturnLabel.objects.filter(rma=rma).exists()
    assert not RmaEvent.objects.filter(rma=rma).exists()


@pytest.mark.parametrize("status", [RmaStatus.REQUESTED, RmaStatus.CANCELLED, RmaStatus.RECEIVED])
def test_only_an_authorized_rma_gets_a_label(rma, fake_service, status):
    Rma.objects.filter(pk=rma.pk).update(status=status)

    assert label_issue(rma_id=rma.pk) is None

    assert fake_service.requests == []
    assert not ReturnLabel.objects.filter(rma=rma).exists()
    rma.refresh_from_db()
    assert rma.label_status == LabelStatus.PENDING


def test_transient_error_leaves_the_label_pending_for_a_retry(rma, fake_service):
    fake_service.answers = [TransientLabelError("HTTP 503")]

    with pytest.raises(TransientLabelError):
        label_issue(rma_id=rma.pk)

    label = ReturnLabel.objects.get(rma=rma)
    assert label.status == LabelStatus.PENDING
    assert label.claimed_until is None
    assert label.failure_reason == "HTTP 503"
    assert not RmaEvent.objects.filter(rma=rma).exists()

    retried = label_issue(rma_id=rma.pk)

    assert retried.pk == label.pk
    assert retried.status == LabelStatus.ISSUED
    assert retried.attempts == 2
    assert retried.failure_reason == ""


def test_permanent_error_then_fail_marks_the_label_failed(rma, fake_service):
    fake_service.answers = [PermanentLabelError("HTTP 422")]
    with pytest.raises(PermanentLabelError):
        label_issue(rma_id=rma.pk)

    label = label_fail(rma_id=rma.pk, reason="HTTP 422")

    rma.refresh_from_db()
    assert label.status == LabelStatus.FAILED
    assert ReturnLabel.objects.get(rma=rma).status == LabelStatus.FAILED
    assert (rma.label_status, rma.label_failure_reason) == (LabelStatus.FAILED, "HTTP 422")
    (event,) = events(rma, "rma.label_failed")
    assert event.data["reason"] == "HTTP 422"
    # Repeated: nothing changes, no second event, and no label is issued later.
    assert label_fail(rma_id=rma.pk, reason="again") is None
    assert label_issue(rma_id=rma.pk) is None
    assert len(events(rma, "rma.label_failed")) == 1
    assert len(fake_service.requests) == 1


def test_unexpected_adapter_error_becomes_permanent(rma, fake_service):
    fake_service.answers = [ZeroDivisionError("bug")]
    with pytest.raises(PermanentLabelError):
        label_issue(rma_id=rma.pk)
    assert ReturnLabel.objects.get(rma=rma).claimed_until is None


def test_a_label_without_pdf_is_refused(rma, fake_service):
    from labels.adapters import IssuedLabel

    fake_service.answers = [IssuedLabel(carrier="X", tracking_number="1", pdf=None)]
    with pytest.raises(PermanentLabelError):
        label_issue(rma_id=rma.pk)
    rma.refresh_from_db()
    assert rma.label_status == LabelStatus.PENDING


def test_fail_without_any_label_row_records_one(rma):
    label = label_fail(rma_id=rma.pk, reason="Label service unavailable after retries")
    assert ReturnLabel.objects.get(rma=rma).pk == label.pk
    assert label.status == LabelStatus.FAILED


def test_fail_after_issue_changes_nothing(rma, fake_service):
    issued = label_issue(rma_id=rma.pk)
    assert label_fail(rma_id=rma.pk, reason="late") is None
    issued.refresh_from_db()
    rma.refresh_from_db()
    assert (issued.status, rma.label_status) == (LabelStatus.ISSUED, LabelStatus.ISSUED)


def test_label_claimed_by_another_worker_is_left_alone(rma, fake_service):
    ReturnLabel.objects.create(
        rma=rma, service="fake", claimed_until=timezone.now() + dt.timedelta(seconds=30)
    )
    assert label_issue(rma_id=rma.pk) is None
    assert fake_service.requests == []


def test_lapsed_claim_is_taken_over(rma, fake_service):
    stale = ReturnLabel.objects.create(
        rma=rma, service="fake", claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )
    label = label_issue(rma_id=rma.pk)
    assert label.pk == stale.pk
    assert label.status == LabelStatus.ISSUED


def test_reissue_voids_the_label_and_a_new_one_is_issued(
    rma, fake_service, django_capture_on_commit_callbacks
):
    first = label_issue(rma_id=rma.pk)
    agent = UserFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        pending = label_reissue(rma=rma, actor_user=agent, reason="Parcel label torn")

    first.refresh_from_db()
    rma.refresh_from_db()
    assert first.status == LabelStatus.VOIDED
    assert first.voided_at is not None
    assert pending.status == LabelStatus.PENDING
    assert rma.label_status == LabelStatus.PENDING
    assert (rma.label_carrier, rma.label_tracking_number, rma.label_file.name) == ("", "", "")
    (event,) = events(rma, "rma.label_reissued")
    assert (event.actor_type, event.actor_user) == (ActorType.AGENT, agent)
    assert event.data == {
        "labelId": pending.pk,
        "voidedLabelId": first.pk,
        "reason": "Parcel label torn",
    }
    assert len(callbacks) == 1  # the label task, after commit

    second = label_issue(rma_id=rma.pk)

    assert second.pk == pending.pk
    assert second.status == LabelStatus.ISSUED
    assert second.tracking_number != first.tracking_number
    rma.refresh_from_db()
    assert rma.label_tracking_number == second.tracking_number
    assert ReturnLabel.objects.filter(rma=rma, status__in=["PENDING", "ISSUED"]).count() == 1
    # The voided label keeps its file for the record.
    assert default_storage.exists(first.file.name)


def test_reissue_after_a_failure_keeps_the_failed_label(rma, fake_service):
    failed = label_fail(rma_id=rma.pk, reason="down")
    pending = label_reissue(rma=rma)

    failed.refresh_from_db()
    assert failed.status == LabelStatus.FAILED
    assert pending.status == LabelStatus.PENDING
    (event,) = events(rma, "rma.label_reissued")
    assert event.actor_type == ActorType.SYSTEM
    assert label_issue(rma_id=rma.pk).status == LabelStatus.ISSUED


@pytest.mark.parametrize("status", [RmaStatus.RECEIVED, RmaStatus.CANCELLED])
def test_reissue_needs_an_authorized_rma(rma, fake_service, status):
    label_issue(rma_id=rma.pk)
    Rma.objects.filter(pk=rma.pk).update(status=status)

    with pytest.raises(RequestError):
        label_reissue(rma=rma)

    assert ReturnLabel.objects.get(rma=rma).status == LabelStatus.ISSUED
    assert events(rma, "rma.label_reissued") == []


def test_label_voided_while_the_service_works_is_discarded(rma, fake_service):
    def agent_reissues_meanwhile(request):
        label_reissue(rma=Rma.objects.get(pk=rma.pk))

    fake_service.on_issue = agent_reissues_meanwhile

    assert label_issue(rma_id=rma.pk) is None

    rma.refresh_from_db()
    assert rma.label_status == LabelStatus.PENDING
    assert list(ReturnLabel.objects.filter(rma=rma).values_list("status", flat=True)) == [
        LabelStatus.VOIDED,
        LabelStatus.PENDING,
    ]
    assert events(rma, "rma.label_issued") == []
    # The late PDF was not kept.
    assert not _stored_files()


def _stored_files() -> list[str]:
    if not default_storage.exists("labels"):
        return []
    files = []
    years = default_storage.listdir("labels")[0]
    for year in years:
        for month in default_storage.listdir(f"labels/{year}")[0]:
            files += default_storage.listdir(f"labels/{year}/{month}")[1]
    return files


def test_issue_runs_a_fixed_number_of_queries(rma, fake_service):
    with CaptureQueriesContext(connection) as one_line:
        label_issue(rma_id=rma.pk)

    many = RmaFactory(order=rma.order)
    for _ in range(5):
        add_line(many)
    with CaptureQueriesContext(connection) as five_lines:
        label_issue(rma_id=many.pk)

    assert len(five_lines) == len(one_line)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_tasks_call_the_service_once(rma, monkeypatch):
    started, release = threading.Event(), threading.Event()
    service = FakeLabelService()

    def held_issue(request):
        # Only the first call is held, until the second task has finished: the overlap
        # does not depend on how fast the machine is. (Bounded: never a hung test run.)
        if not started.is_set():
            started.set()
            release.wait(BOUND)

    service.on_issue = held_issue
    monkeypatch.setattr("labels.services.get_label_service", lambda: service)
    results = {}

    def worker(name):
        try:
            results[name] = label_issue(rma_id=rma.pk)
        finally:
            connection.close()

    first = threading.Thread(target=worker, args=("first",))
    first.start()
    assert started.wait(BOUND)
    second = threading.Thread(target=worker, args=("second",))
    second.start()
    second.join(BOUND)
    finished_while_held = not second.is_alive()
    release.set()
    first.join(BOUND)

    assert finished_while_held, "the second task waited for the first one's call"
    assert not first.is_alive()
    assert results["second"] is None
    assert results["first"].status == LabelStatus.ISSUED
    assert len(service.requests) == 1
    assert ReturnLabel.objects.filter(rma=rma).count() == 1
    assert RmaEvent.objects.filter(rma=rma, type="rma.label_issued").count() == 1

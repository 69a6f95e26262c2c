"""Issuing, failing and re-issuing return labels.

`ReturnLabel` rows are the history; the RMA's `label_*` fields mirror the current
label. Every writer locks the RMA row first, so label writes for one RMA are
serialised; the partial unique constraint (one PENDING or ISSUED label per RMA) backs
that up in the database.

Issuing calls a label service that may take seconds, so `label_issue` does not hold a
database lock meanwhile: it claims the PENDING label for a limited time in one short
transaction, calls the service with no transaction open, stores the PDF, and records
the result in a second short transaction, where a label voided or settled in the
meantime wins over the late result.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rma.errors import DESCRIPTIONS, RequestError
from rma.models import LabelStatus, Rma, RmaStatus
from rma.policy import StorePolicy
from rma.queue import enqueue_on_commit
from rma.selectors import rmas_with_lines
from rma.services.actors import Actor
from rma.services.events import record_event

from .adapters import (
    IssuedLabel,
    LabelRequest,
    LabelService,
    LabelServiceError,
    PermanentLabelError,
    VoidRequest,
    get_label_service,
    label_service_named,
)
from .models import RefundStatus, ReturnLabel
from .package import Package, package_for_rma, package_info

logger = logging.getLogger(__name__)

EVENT_ISSUED = "rma.label_issued"
EVENT_FAILED = "rma.label_failed"
EVENT_REISSUED = "rma.label_reissued"
EVENT_VOIDED = "rma.label_voided"
EVENT_REFUNDED = "rma.label_refund"
# The shopper chose a QR code instead of a printed label (in the `rma.created` event).
LABEL_FORMAT_QR = "QR"
CURRENT_STATUSES = (LabelStatus.PENDING, LabelStatus.ISSUED)
REASON_LENGTH = ReturnLabel._meta.get_field("failure_reason").max_length
RMA_LABEL_FIELDS = [
    "label_status",
    "label_carrier",
    "label_tracking_number",
    "label_file",
    "label_failure_reason",
    "updated_at",
]


def claim_duration() -> dt.timedelta:
    """How long one worker may hold a label while the service works on it.

    Longer than the slowest call the http adapter can make (a request and a download,
    each with a connect and a read timeout) so a live worker never loses its claim; a
    crashed worker's claim lapses and the sweeper's retry takes over.
    """
    return dt.timedelta(seconds=4 * settings.LABEL_SERVICE_TIMEOUT + 30)


def label_qr_code_chosen(rma: Rma) -> bool:
    """The shopper asked for a QR code instead of a printed label (portal, "no printer")."""
    return rma.events.filter(type="rma.created", data__labelFormat=LABEL_FORMAT_QR).exists()


def label_request_for_rma(
    rma: Rma, package: Package, *, label: ReturnLabel | None = None
) -> LabelRequest:
    """What the label service is told: from the shopper's address to the return destination.

    With `label` (the claimed one), the carrier adapters also get the store's rate rules,
    the shopper's QR code choice and the shipment an earlier attempt created.
    """
    order = rma.order
    destination = rma.supplier.return_address if rma.supplier_id else rma.store.return_address
    shipping_address = dict(order.shipping_address or {})
    return LabelRequest(
        rma_number=rma.rma_number,
        store_code=rma.store.code,
        store_name=rma.store.name,
        order_id=order.order_id,
        from_address={
            **shipping_address,
            "name": order.customer_name or shipping_address.get("name", ""),
        },
        to_address=dict(destination or {}),
        package=package_info(package),
        **(_carrier_fields(rma, label) if label is not None else {}),
    )


def _carrier_fields(rma: Rma, label: ReturnLabel) -> dict:
    policy = StorePolicy.of(rma.store).label
    label_id = label.pk

    def record_shipment(shipment_id: str) -> None:
        # Outside any transaction, before buying: a retry finds it and does not buy twice.
        ReturnLabel.objects.filter(pk=label_id).update(shipment_id=shipment_id[:100])

    return {
        "label_policy": policy,
        "qr_code": policy.qr_code and label_qr_code_chosen(rma),
        "shipment_id": label.shipment_id,
        "record_shipment": record_shipment,
    }


@dataclass(frozen=True)
class _Claim:
    label_id: int
    request: LabelRequest


def label_issue(*, rma_id: int) -> ReturnLabel | None:
    """Issue the label of an AUTHORIZED RMA whose label is PENDING; idempotent.

    Returns the ISSUED label (new, or the one issued before), the FAILED label when the
    package is not eligible (no service call, the package codes in the
    failure reason), or None when there is nothing to do: the RMA is not AUTHORIZED,
    its label already failed or is not required, or another worker is issuing it.
    With `LABEL_SERVICE=none` the label becomes NOT_REQUIRED.

    Raises `TransientLabelError` (retry later) or `PermanentLabelError` (then call
    `label_fail`); either way the label stays PENDING and unclaimed. Not atomic as a
    whole on purpose: no transaction stays open while the service works.
    """
    service = get_label_service()
    claimed = _label_claim(rma_id=rma_id, service=service)
    if not isinstance(claimed, _Claim):
        return claimed
    try:
        issued = service.issue(claimed.request)
        if issued is None or not issued.pdf:
            raise PermanentLabelError(f"The {service.name} label service returned no PDF")
    except LabelServiceError as error:
        _label_release(label_id=claimed.label_id, reason=str(error))
        raise
    except Exception as error:
        # A defect in an adapter: retrying will not fix it, an agent has to look.
        logger.exception("Label service %s failed for RMA id %s", service.name, rma_id)
        _label_release(label_id=claimed.label_id, reason=repr(error))
        raise PermanentLabelError(f"Unexpected label service error: {error!r}") from error
    file_field = ReturnLabel._meta.get_field("file")
    file_name = file_field.storage.save(
        file_field.generate_filename(None, f"{claimed.request.rma_number}.pdf"),
        ContentFile(issued.pdf),
    )
    qr_field = ReturnLabel._meta.get_field("qr_code")
    qr_name = (
        qr_field.storage.save(
            qr_field.generate_filename(None, f"{claimed.request.rma_number}.png"),
            ContentFile(issued.qr_code),
        )
        if issued.qr_code
        else ""
    )
    label = None
    try:
        label = _label_record(
            rma_id=rma_id,
            label_id=claimed.label_id,
            issued=issued,
            file_name=file_name,
            qr_name=qr_name,
            refunds_labels=service.refunds_labels,
        )
    finally:
        if label is None or label.file.name != file_name:
            file_field.storage.delete(file_name)
            if qr_name:
                qr_field.storage.delete(qr_name)
    return label


@transaction.atomic
def _label_claim(*, rma_id: int, service: LabelService) -> _Claim | ReturnLabel | None:
    """Lock the RMA, settle what needs no service call, else claim the PENDING label."""
    rma = rmas_with_lines().select_for_update(of=("self",)).filter(pk=rma_id).first()
    if rma is None or rma.status != RmaStatus.AUTHORIZED:
        return None
    current = ReturnLabel.objects.filter(rma=rma, status__in=CURRENT_STATUSES).first()
    if rma.label_status != LabelStatus.PENDING:
        return current if current and current.status == LabelStatus.ISSUED else None
    if not service.issues_labels:
        if current is not None:
            current.status = LabelStatus.NOT_REQUIRED
            current.save(update_fields=["status"])
        rma.label_status = LabelStatus.NOT_REQUIRED
        rma.save(update_fields=["label_status", "updated_at"])
        return None
    now = timezone.now()
    if current is None:
        current = ReturnLabel.objects.create(rma=rma, service=service.name)
    elif current.claimed_until and current.claimed_until > now:
        return None
    package = package_for_rma(rma)
    if not package.eligible:
        reason = "; ".join(f"{code} {DESCRIPTIONS[code]}" for code in package.failures)
        _mark_failed(rma=rma, label=current, reason=reason, codes=list(package.failures))
        return current
    current.service = service.name
    current.attempts += 1
    current.claimed_until = now + claim_duration()
    current.save(update_fields=["service", "attempts", "claimed_until"])
    return _Claim(label_id=current.pk, request=label_request_for_rma(rma, package, label=current))


@transaction.atomic
def _label_release(*, label_id: int, reason: str) -> None:
    """Give up a claim after a failed call, keeping the error for agents."""
    ReturnLabel.objects.filter(pk=label_id, status=LabelStatus.PENDING).update(
        claimed_until=None, failure_reason=reason[:REASON_LENGTH]
    )


CARRIER_FIELDS = [
    "carrier",
    "tracking_number",
    "service_level",
    "rate",
    "rate_currency",
    "shipment_id",
    "carrier_label_id",
]


def _set_carrier_fields(label: ReturnLabel, issued: IssuedLabel) -> None:
    label.carrier = issued.carrier[:64]
    label.tracking_number = issued.tracking_number[:64]
    label.service_level = issued.service_level[:100]
    label.rate = issued.rate
    label.rate_currency = issued.rate_currency[:3]
    label.shipment_id = (issued.shipment_id or label.shipment_id)[:100]
    label.carrier_label_id = issued.carrier_label_id[:100]


@transaction.atomic
def _label_record(
    *,
    rma_id: int,
    label_id: int,
    issued: IssuedLabel,
    file_name: str,
    qr_name: str = "",
    refunds_labels: bool = False,
) -> ReturnLabel | None:
    """Mark the claimed label ISSUED, unless it was voided or settled meanwhile.

    A carrier label bought for a label voided meanwhile (the RMA was cancelled during
    the purchase) is refunded: its carrier references are kept and the refund queued.
    """
    rma = Rma.objects.select_for_update().get(pk=rma_id)
    label = ReturnLabel.objects.get(pk=label_id)
    if label.status != LabelStatus.PENDING:
        if label.status == LabelStatus.VOIDED and refunds_labels and not label.refund_status:
            _set_carrier_fields(label, issued)
            label.refund_status = RefundStatus.PENDING
            label.save(update_fields=[*CARRIER_FIELDS, "refund_status"])
            enqueue_on_commit("labels.refund_label", label_id=label.pk)
        return (
            ReturnLabel.objects.filter(rma=rma, status=LabelStatus.ISSUED).first()
            if rma.label_status == LabelStatus.ISSUED
            else None
        )
    label.status = LabelStatus.ISSUED
    _set_carrier_fields(label, issued)
    label.file.name = file_name
    label.qr_code.name = qr_name
    label.issued_at = timezone.now()
    label.claimed_until = None
    label.failure_reason = ""
    label.save(
        update_fields=[
            "status",
            *CARRIER_FIELDS,
            "file",
            "qr_code",
            "issued_at",
            "claimed_until",
            "failure_reason",
        ]
    )
    rma.label_status = LabelStatus.ISSUED
    rma.label_carrier = label.carrier
    rma.label_tracking_number = label.tracking_number
    rma.label_file.name = file_name
    rma.label_failure_reason = ""
    rma.save(update_fields=RMA_LABEL_FIELDS)
    record_event(
        rma=rma,
        type=EVENT_ISSUED,
        actor=Actor.system(),
        data={
            "labelId": label.pk,
            "service": label.service,
            "carrier": label.carrier,
            "trackingNumber": label.tracking_number,
            **(
                {
                    "serviceLevel": label.service_level,
                    "rate": str(label.rate) if label.rate is not None else None,
                    "currency": label.rate_currency,
                    "shipmentId": label.shipment_id,
                }
                if label.shipment_id
                else {}
            ),
        },
    )
    return label


@transaction.atomic
def label_fail(*, rma_id: int, reason: str) -> ReturnLabel | None:
    """Mark the RMA's PENDING label permanently FAILED (after the last retry, or at once
    on a `PermanentLabelError`); the RMA joins the agents' "label failed" queue.

    Returns the FAILED label, or None if the label was not PENDING (issued meanwhile,
    already failed, not required): a repeated call changes nothing.
    """
    rma = Rma.objects.select_for_update().filter(pk=rma_id).first()
    if rma is None or rma.label_status != LabelStatus.PENDING:
        return None
    label = ReturnLabel.objects.filter(rma=rma, status=LabelStatus.PENDING).first()
    if label is None:
        label = ReturnLabel(rma=rma, service=get_label_service().name)
    _mark_failed(rma=rma, label=label, reason=reason, codes=[])
    return label


def _mark_failed(*, rma: Rma, label: ReturnLabel, reason: str, codes: list[str]) -> None:
    label.status = LabelStatus.FAILED
    label.failure_reason = reason[:REASON_LENGTH]
    label.claimed_until = None
    label.save()
    rma.label_status = LabelStatus.FAILED
    rma.label_carrier = ""
    rma.label_tracking_number = ""
    rma.label_file.name = ""
    rma.label_failure_reason = label.failure_reason
    rma.save(update_fields=RMA_LABEL_FIELDS)
    record_event(
        rma=rma,
        type=EVENT_FAILED,
        actor=Actor.system(),
        data={"labelId": label.pk, "reason": label.failure_reason, "codes": codes},
    )


@transaction.atomic
def label_reissue(*, rma: Rma, actor_user=None, reason: str = "") -> ReturnLabel:
    """Void the RMA's current label (if any) and start a new PENDING one.

    For an agent replacing a lost, damaged or failed label; `reason` (optional) goes
    into the event. The old label keeps its
    file and becomes VOIDED; the label task is enqueued after commit to issue the new
    one (a PENDING label claimed by a worker at this moment is voided too, and that
    worker's late result is discarded). Only an AUTHORIZED RMA gets a new label.
    """
    rma = Rma.objects.select_for_update().get(pk=rma.pk)
    if rma.status != RmaStatus.AUTHORIZED:
        raise RequestError(
            f"RMA {rma.rma_number} is {rma.get_status_display()}: "
            "only an authorized return can get a new label."
        )
    current = ReturnLabel.objects.filter(rma=rma, status__in=CURRENT_STATUSES).first()
    if current is not None:
        # Voided before the new label exists: one current label per RMA at any moment.
        changed = ["status", "voided_at", "claimed_until"]
        if current.status == LabelStatus.ISSUED and (
            current.shipment_id or current.carrier_label_id
        ):
            # A carrier label that is replaced is refunded, like a cancelled one.
            current.refund_status = RefundStatus.PENDING
            changed.append("refund_status")
            enqueue_on_commit("labels.refund_label", label_id=current.pk)
        current.status = LabelStatus.VOIDED
        current.voided_at = timezone.now()
        current.claimed_until = None
        current.save(update_fields=changed)
    label = ReturnLabel.objects.create(rma=rma, service=get_label_service().name)
    rma.label_status = LabelStatus.PENDING
    rma.label_carrier = ""
    rma.label_tracking_number = ""
    rma.label_file.name = ""
    rma.label_failure_reason = ""
    rma.save(update_fields=RMA_LABEL_FIELDS)
    record_event(
        rma=rma,
        type=EVENT_REISSUED,
        actor=Actor.agent(actor_user) if actor_user is not None else Actor.system(),
        data={
            "labelId": label.pk,
            "voidedLabelId": current.pk if current else None,
            **({"reason": reason} if reason else {}),
        },
    )
    enqueue_on_commit("rma.issue_label", rma_id=rma.pk)
    return label


def label_claim_lapses_in(*, rma_id: int) -> float | None:
    """Seconds until a worker's live claim on the RMA's PENDING label lapses; None if none."""
    now = timezone.now()
    claimed_until = (
        ReturnLabel.objects.filter(
            rma_id=rma_id,
            rma__status=RmaStatus.AUTHORIZED,
            rma__label_status=LabelStatus.PENDING,
            status=LabelStatus.PENDING,
            claimed_until__gt=now,
        )
        .values_list("claimed_until", flat=True)
        .first()
    )
    return None if claimed_until is None else (claimed_until - now).total_seconds()


def label_void(*, rma: Rma, reason: str) -> ReturnLabel | None:
    """Void the RMA's current label when the return is cancelled or expires.

    Call inside the transaction that changes the RMA's status (it holds the RMA's row
    lock). The label stops downloading at once; a label a carrier sold is refunded
    after commit (`labels.refund_label`). A PENDING label being bought right now is
    voided too: the worker's late result is refunded when it arrives. Returns the voided
    label, or None when the RMA had none current.
    """
    label = (
        ReturnLabel.objects.select_for_update().filter(rma=rma, status__in=CURRENT_STATUSES).first()
    )
    if label is None:
        return None
    was_issued = label.status == LabelStatus.ISSUED
    label.status = LabelStatus.VOIDED
    label.voided_at = timezone.now()
    label.claimed_until = None
    changed = ["status", "voided_at", "claimed_until"]
    if was_issued and (label.shipment_id or label.carrier_label_id):
        label.refund_status = RefundStatus.PENDING
        changed.append("refund_status")
        enqueue_on_commit("labels.refund_label", label_id=label.pk)
    label.save(update_fields=changed)
    rma.label_status = LabelStatus.VOIDED
    rma.label_file.name = ""
    rma.save(update_fields=["label_status", "label_file", "updated_at"])
    record_event(
        rma=rma,
        type=EVENT_VOIDED,
        actor=Actor.system(),
        data={
            "labelId": label.pk,
            "reason": reason,
            "refund": label.refund_status or None,
        },
    )
    return label


def label_refund(*, label_id: int) -> ReturnLabel | None:
    """Ask the carrier to refund a voided label whose refund is PENDING; idempotent.

    Claims the label like `label_issue` does (no transaction open during the call), so
    a duplicated task asks the carrier once. Raises `TransientLabelError` (the refund
    stays PENDING for a retry); a carrier's refusal is recorded as REJECTED with its
    message for an agent. Returns the label, or None when there was nothing to do.
    """
    claimed = _refund_claim(label_id=label_id)
    if claimed is None:
        return None
    label, service = claimed
    request = VoidRequest(
        rma_number=label.rma.rma_number,
        tracking_number=label.tracking_number,
        shipment_id=label.shipment_id,
        carrier_label_id=label.carrier_label_id,
    )
    try:
        outcome = service.refund(request)
    except PermanentLabelError as error:
        return _refund_record(label_id=label_id, outcome=RefundStatus.REJECTED, error=str(error))
    except LabelServiceError:
        ReturnLabel.objects.filter(pk=label_id).update(claimed_until=None)
        raise
    return _refund_record(label_id=label_id, outcome=outcome, error="")


@transaction.atomic
def _refund_claim(*, label_id: int):
    label = (
        ReturnLabel.objects.select_for_update()
        .select_related("rma")
        .filter(pk=label_id, status=LabelStatus.VOIDED, refund_status=RefundStatus.PENDING)
        .first()
    )
    now = timezone.now()
    if label is None or (label.claimed_until and label.claimed_until > now):
        return None
    label.claimed_until = now + claim_duration()
    label.save(update_fields=["claimed_until"])
    return label, label_service_named(label.service)


@transaction.atomic
def _refund_record(*, label_id: int, outcome: str, error: str) -> ReturnLabel:
    label = ReturnLabel.objects.select_for_update().select_related("rma").get(pk=label_id)
    label.refund_status = outcome
    label.refund_error = error[:REASON_LENGTH]
    label.claimed_until = None
    label.save(update_fields=["refund_status", "refund_error", "claimed_until"])
    record_event(
        rma=label.rma,
        type=EVENT_REFUNDED,
        actor=Actor.system(),
        data={
            "labelId": label.pk,
            "status": outcome,
            **({"error": label.refund_error} if error else {}),
        },
    )
    return label


# A voided carrier label whose refund is still PENDING this long after it was voided was
# never enqueued (broker down) or ran out of retries: the sweeper asks again, for a week.
REFUND_SWEEP_AFTER = dt.timedelta(minutes=2)
REFUND_SWEEP_FOR = dt.timedelta(days=7)


def label_refunds_to_sweep(*, now: dt.datetime | None = None) -> list[int]:
    """Ids of voided labels whose refund is PENDING, unclaimed and overdue."""
    now = now or timezone.now()
    return list(
        ReturnLabel.objects.filter(
            status=LabelStatus.VOIDED,
            refund_status=RefundStatus.PENDING,
            voided_at__lte=now - REFUND_SWEEP_AFTER,
            voided_at__gte=now - REFUND_SWEEP_FOR,
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .values_list("pk", flat=True)
    )

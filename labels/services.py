"""Issuing, failing and re-issuing return labels (SPEC sections 9 to 11).

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
from django.utils import timezone

from rma.errors import DESCRIPTIONS, RequestError
from rma.models import LabelStatus, Rma, RmaStatus
from rma.queue import enqueue_on_commit
from rma.selectors import rmas_with_lines
from rma.services.actors import Actor
from rma.services.events import record_event

from .adapters import (
    LabelRequest,
    LabelService,
    LabelServiceError,
    PermanentLabelError,
    get_label_service,
)
from .models import ReturnLabel
from .package import Package, package_for_rma, package_info

logger = logging.getLogger(__name__)

EVENT_ISSUED = "rma.label_issued"
EVENT_FAILED = "rma.label_failed"
EVENT_REISSUED = "rma.label_reissued"
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


def label_request_for_rma(rma: Rma, package: Package) -> LabelRequest:
    """What the label service is told: from the shopper's address to the return destination."""
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
    )


@dataclass(frozen=True)
class _Claim:
    label_id: int
    request: LabelRequest


def label_issue(*, rma_id: int) -> ReturnLabel | None:
    """Issue the label of an AUTHORIZED RMA whose label is PENDING; idempotent.

    Returns the ISSUED label (new, or the one issued before), the FAILED label when the
    package is not eligible (SPEC section 9: no service call, the codes in the
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
    label = None
    try:
        label = _label_record(
            rma_id=rma_id,
            label_id=claimed.label_id,
            carrier=issued.carrier,
            tracking_number=issued.tracking_number,
            file_name=file_name,
        )
    finally:
        if label is None or label.file.name != file_name:
            file_field.storage.delete(file_name)
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
    return _Claim(label_id=current.pk, request=label_request_for_rma(rma, package))


@transaction.atomic
def _label_release(*, label_id: int, reason: str) -> None:
    """Give up a claim after a failed call, keeping the error for agents."""
    ReturnLabel.objects.filter(pk=label_id, status=LabelStatus.PENDING).update(
        claimed_until=None, failure_reason=reason[:REASON_LENGTH]
    )


@transaction.atomic
def _label_record(
    *, rma_id: int, label_id: int, carrier: str, tracking_number: str, file_name: str
) -> ReturnLabel | None:
    """Mark the claimed label ISSUED, unless it was voided or settled meanwhile."""
    rma = Rma.objects.select_for_update().get(pk=rma_id)
    label = ReturnLabel.objects.get(pk=label_id)
    if label.status != LabelStatus.PENDING:
        return (
            ReturnLabel.objects.filter(rma=rma, status=LabelStatus.ISSUED).first()
            if rma.label_status == LabelStatus.ISSUED
            else None
        )
    label.status = LabelStatus.ISSUED
    label.carrier = carrier[:64]
    label.tracking_number = tracking_number[:64]
    label.file.name = file_name
    label.issued_at = timezone.now()
    label.claimed_until = None
    label.failure_reason = ""
    label.save(
        update_fields=[
            "status",
            "carrier",
            "tracking_number",
            "file",
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
        current.status = LabelStatus.VOIDED
        current.voided_at = timezone.now()
        current.claimed_until = None
        current.save(update_fields=["status", "voided_at", "claimed_until"])
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

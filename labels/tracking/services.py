"""Recording carrier tracking updates on RMAs."""

from __future__ import annotations

import logging

from django.db import transaction

from labels.models import ReturnLabel, TrackingEvent, TrackingStatus
from rma import followups
from rma.models import Rma, RmaStatus
from rma.services.actors import Actor
from rma.services.events import record_event

from .parsing import TrackingUpdate

logger = logging.getLogger(__name__)

EVENT_TRACKING = "rma.tracking_updated"


class TrackingRefused(Exception):
    """An update that is not recorded; `status` is the HTTP status the webhook answers."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message)
        self.status = status


@transaction.atomic
def tracking_record(*, source: str, update: TrackingUpdate) -> TrackingEvent:
    """Record one tracking update of a label the `source` carrier sold; idempotent.

    Raises `TrackingRefused` for a tracking number none of our labels has (404) and for
    an update already recorded (a replay, 409). The shopper is emailed once, on the
    first IN_TRANSIT of a return still under way (the notification's key makes it once).
    """
    label = (
        ReturnLabel.objects.filter(service=source, tracking_number=update.tracking_number)
        .exclude(tracking_number="")
        .order_by("-created_at", "-id")
        .first()
    )
    if label is None:
        raise TrackingRefused("unknown tracking number", status=404)
    rma = Rma.objects.select_for_update().select_related("order").get(pk=label.rma_id)
    if TrackingEvent.objects.filter(source=source, source_event_id=update.event_key).exists():
        raise TrackingRefused("update already recorded", status=409)
    event = TrackingEvent.objects.create(
        rma=rma,
        label=label,
        source=source,
        source_event_id=update.event_key[:200],
        tracking_number=update.tracking_number,
        status=update.status,
        description=update.description,
        location=update.location,
        occurred_at=update.occurred_at,
    )
    record_event(
        rma=rma,
        type=EVENT_TRACKING,
        actor=Actor.system(source),
        data={
            "trackingNumber": update.tracking_number,
            "status": update.status,
            "occurredAt": update.occurred_at.isoformat(),
            **({"description": update.description} if update.description else {}),
        },
    )
    if update.status == TrackingStatus.IN_TRANSIT and rma.status == RmaStatus.AUTHORIZED:
        followups.notification_queue(kind="in_transit", rmas=[rma], key=f"in_transit:rma:{rma.pk}")
    return event

"""Reads of tracking events: an RMA's history, the warehouse's parcels expected today."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max
from django.utils import timezone

from labels.models import TrackingEvent, TrackingStatus
from rma.models import Rma, RmaStatus

ARRIVING_STATUSES = (TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.DELIVERED)


def tracking_events_for(rma: Rma) -> list[TrackingEvent]:
    """The RMA's tracking updates, oldest first."""
    return list(TrackingEvent.objects.filter(rma=rma).order_by("occurred_at", "id"))


def rmas_expected_today(*, now: dt.datetime | None = None) -> list[dict]:
    """Returns not received yet whose parcel is out for delivery or delivered today.

    Today is the site's day (`TIME_ZONE`); each entry has the RMA, its latest arriving
    status and when the carrier reported it. Most recent first.
    """
    now = timezone.localtime(now or timezone.now())
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    latest = (
        TrackingEvent.objects.filter(
            status__in=ARRIVING_STATUSES,
            occurred_at__gte=start,
            occurred_at__lt=start + dt.timedelta(days=1),
            rma__status=RmaStatus.AUTHORIZED,
        )
        .values("rma_id")
        .annotate(last=Max("occurred_at"))
    )
    last_by_rma = {row["rma_id"]: row["last"] for row in latest}
    events = (
        TrackingEvent.objects.filter(
            rma_id__in=last_by_rma, status__in=ARRIVING_STATUSES, occurred_at__gte=start
        )
        .select_related("rma", "rma__store")
        .order_by("-occurred_at", "-id")
    )
    entries, seen = [], set()
    for event in events:
        if event.rma_id in seen or event.occurred_at != last_by_rma[event.rma_id]:
            continue
        seen.add(event.rma_id)
        entries.append(
            {
                "rma": event.rma,
                "status": event.status,
                "at": event.occurred_at,
                "status_text": event.get_status_display(),
            }
        )
    return entries

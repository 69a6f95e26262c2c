"""The status page's label and tracking panel (carrier, service, QR code, tracking)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import template
from django.urls import reverse
from django.utils import timezone

from labels.links import label_token
from labels.models import ReturnLabel
from labels.tracking.selectors import tracking_events_for
from rma.models import LabelStatus

register = template.Library()


@register.inclusion_tag("labels/tracking_panel.html")
def tracking_panel(rma):
    """What the shopper sees of the label a carrier sold and of its tracking."""
    label = (
        ReturnLabel.objects.filter(rma=rma, status=LabelStatus.ISSUED)
        .order_by("-created_at", "-id")
        .first()
    )
    zone = ZoneInfo(rma.store.timezone)
    events = [
        {"event": event, "at": timezone.localtime(event.occurred_at, zone)}
        for event in tracking_events_for(rma)
    ]
    qr_url = (
        reverse("labels:qr_code", kwargs={"token": label_token(rma)})
        if label is not None and label.qr_code
        else ""
    )
    return {
        "label": label if label is not None and label.shipment_id else None,
        "qr_url": qr_url,
        "events": events,
        "rma": rma,
    }

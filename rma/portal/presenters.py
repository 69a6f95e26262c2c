"""What the confirmation and status pages show of an RMA, ready for the templates."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from catalogue.selectors import attach_exchanges
from labels.links import label_token
from payments.estimate import Estimate
from rma.estimates import (
    estimate_view,
    is_kept,
    outcome_view,
    resolved_return_fee,
    rma_estimates,
    rma_line_titles,
)
from rma.links import status_path
from rma.models import LabelStatus, Rma, RmaStatus
from rma.policy import StorePolicy
from rma.transitions import SHOPPER_CANCELLABLE

from .progress import progress_steps
from .wording import (
    EVENT_TEXTS,
    date_and_time,
    label_pending_text,
    next_steps_text,
    reason_text,
    ship_by_text,
    status_text,
    time_with_zone,
)

# Tracking updates that mean the parcel is on its way back.
IN_TRANSIT_TRACKING = ("IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED")


def label_link(rma: Rma) -> str:
    """The signed label download link (site-relative) while the parcel is to be sent."""
    if rma.status != RmaStatus.AUTHORIZED or rma.label_status != LabelStatus.ISSUED:
        return ""
    return reverse("labels:download", kwargs={"token": label_token(rma)})


def rma_summary(rma: Rma) -> dict:
    """An RMA fetched by `rmas_with_lines`, with its lines, links and next steps, what the
    shopper gets back (`estimate`) and, once resolved, the outcome."""
    policy = StorePolicy.of(rma.store)
    store = rma.store
    kept = is_kept(rma)
    events = list(rma.events.all())
    ship_by = ship_by_text(rma, kept=kept)
    return {
        "status_text": status_text(rma.status),
        "steps": progress_steps(
            status=rma.status,
            resolution=rma.resolution,
            event_types={event.type for event in events},
            kept=kept,
            in_transit=rma.status == RmaStatus.AUTHORIZED
            and rma.tracking_events.filter(status__in=IN_TRANSIT_TRACKING).exists(),
            at_counter=any(
                event.type == "rma.received" and (event.data or {}).get("at_counter")
                for event in events
            ),
        ),
        "ship_by": ship_by,
        "ship_by_iso": rma.expires_at.isoformat() if ship_by else "",
        "estimate": estimate_view(rma_estimates([rma])[rma.pk], titles=rma_line_titles(rma)),
        "outcome": outcome_view(
            rma,
            return_fee=resolved_return_fee(rma) if rma.status == RmaStatus.RESOLVED else None,
        ),
        "kept": kept,
        "rma": rma,
        "status_path": status_path(rma),
        "label_url": label_link(rma),
        "label_note": label_pending_text(rma),
        "next_steps": next_steps_text(rma),
        "cancellable": rma.status in SHOPPER_CANCELLABLE,
        "destination": rma.supplier.return_address if rma.supplier_id else store.return_address,
        "lines": [
            {
                "line": line,
                "reason": reason_text(reason)
                if (reason := policy.reason(line.reason_code))
                else line.reason_code,
                "exchange": exchange_view(line),
            }
            # Each line with the exchange asked for, if any: one query for the RMA.
            for line in attach_exchanges(rma.lines.all())
        ],
    }


def request_estimate(rmas: list[Rma]) -> dict | None:
    """The estimates of a request's RMAs summed, when there are several."""
    if len(rmas) < 2:
        return None
    estimates = rma_estimates(rmas)
    summed = Estimate.combine(estimates.values(), currency=rmas[0].store.currency)
    return estimate_view(summed)


def exchange_view(line) -> dict | None:
    """The variant a line is exchanged for and where its replacement stands, or None."""
    reservation = getattr(line, "exchange", None)
    if reservation is None:
        return None
    if reservation.replacement_released_at:
        state = _("On its way to you")
    elif reservation.released_at:
        state = _("No longer set aside")
    else:
        state = _("Set aside for you")
    return {"text": line.exchange_text, "item_id": reservation.variant.item_id, "state": state}


def timeline(rma: Rma) -> list[dict]:
    """The events a shopper sees, oldest first, timed in the store's timezone."""
    zone = ZoneInfo(rma.store.timezone)
    entries = []
    for event in rma.events.all():
        if event.type not in EVENT_TEXTS:
            continue
        title, text = EVENT_TEXTS[event.type]
        entries.append(
            {
                "type": event.type,
                "title": title,
                "text": text,
                "reason": event.data.get("reason", "") if event.type == "rma.rejected" else "",
                "at": event.created_at,
                "at_text": time_with_zone(
                    date_and_time(local := timezone.localtime(event.created_at, zone)), local
                ),
            }
        )
    return entries

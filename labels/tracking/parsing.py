"""The carriers' tracking webhook bodies read into one shape (pure: no queries).

EasyPost posts an Event whose `result` is a Tracker (`description: tracker.updated`);
Shippo posts `{"event": "track_updated", "data": Track}`. Statuses that say nothing
the product shows (pre-transit, unknown, ...) are read as None and ignored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.dateparse import parse_datetime

from labels.models import TrackingStatus

EASYPOST_STATUSES = {
    "in_transit": TrackingStatus.IN_TRANSIT,
    "out_for_delivery": TrackingStatus.OUT_FOR_DELIVERY,
    "delivered": TrackingStatus.DELIVERED,
    "return_to_sender": TrackingStatus.RETURN_TO_SENDER,
    "failure": TrackingStatus.FAILURE,
}
SHIPPO_STATUSES = {
    "TRANSIT": TrackingStatus.IN_TRANSIT,
    "DELIVERED": TrackingStatus.DELIVERED,
    "RETURNED": TrackingStatus.RETURN_TO_SENDER,
    "FAILURE": TrackingStatus.FAILURE,
}


class MalformedUpdate(ValueError):
    """The body is not the carrier's documented tracking webhook."""


@dataclass(frozen=True)
class TrackingUpdate:
    tracking_number: str
    # None: a status the product does not record (the webhook is acknowledged, ignored).
    status: str | None
    # Identifies this update: a replayed webhook carries the same one.
    event_key: str
    occurred_at: dt.datetime
    description: str = ""
    location: str = ""


def _text(value, length: int) -> str:
    return value.strip()[:length] if isinstance(value, str) else ""


def _when(value, default: dt.datetime) -> dt.datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return default
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _place(location) -> str:
    if not isinstance(location, dict):
        return ""
    parts = [location.get(key) for key in ("city", "state", "zip", "country")]
    return _text(", ".join(part for part in parts if isinstance(part, str) and part), 200)


def easypost_update(body, *, now: dt.datetime) -> TrackingUpdate | None:
    """The tracker update of an EasyPost Event; None for events of other kinds."""
    if not isinstance(body, dict) or body.get("object") != "Event":
        raise MalformedUpdate("not an EasyPost Event")
    if not str(body.get("description", "")).startswith("tracker."):
        return None
    tracker = body.get("result")
    if not isinstance(tracker, dict) or not _text(tracker.get("tracking_code"), 64):
        raise MalformedUpdate("the Event has no tracker with a tracking_code")
    status = EASYPOST_STATUSES.get(str(tracker.get("status", "")))
    details = [d for d in tracker.get("tracking_details") or [] if isinstance(d, dict)]
    latest = details[-1] if details else {}
    occurred_at = _when(latest.get("datetime") or tracker.get("updated_at"), now)
    tracking_number = _text(tracker["tracking_code"], 64)
    return TrackingUpdate(
        tracking_number=tracking_number,
        status=status,
        # The tracker's status at the time of its latest detail: EasyPost sends the same
        # update again (retries, replays) with the same values.
        event_key=f"{tracker.get('id') or tracking_number}:{status}:{occurred_at.isoformat()}",
        occurred_at=occurred_at,
        description=_text(latest.get("message") or tracker.get("status_detail"), 500),
        location=_place(latest.get("tracking_location")),
    )


def shippo_update(body, *, now: dt.datetime) -> TrackingUpdate | None:
    """The tracking update of a Shippo `track_updated` webhook; None for other events."""
    if not isinstance(body, dict) or not isinstance(body.get("event"), str):
        raise MalformedUpdate("not a Shippo webhook")
    if body["event"] != "track_updated":
        return None
    track = body.get("data")
    if not isinstance(track, dict) or not _text(track.get("tracking_number"), 64):
        raise MalformedUpdate("the webhook has no track with a tracking_number")
    current = track.get("tracking_status")
    if not isinstance(current, dict):
        raise MalformedUpdate("the track has no tracking_status")
    status = SHIPPO_STATUSES.get(str(current.get("status", "")))
    substatus = current.get("substatus")
    if (
        status == TrackingStatus.IN_TRANSIT
        and isinstance(substatus, dict)
        and substatus.get("code") == "out_for_delivery"
    ):
        status = TrackingStatus.OUT_FOR_DELIVERY
    occurred_at = _when(current.get("status_date") or current.get("object_updated"), now)
    tracking_number = _text(track["tracking_number"], 64)
    object_id = _text(current.get("object_id"), 100)
    return TrackingUpdate(
        tracking_number=tracking_number,
        status=status,
        event_key=f"{tracking_number}:{object_id or f'{status}:{occurred_at.isoformat()}'}",
        occurred_at=occurred_at,
        description=_text(current.get("status_details"), 500),
        location=_place(current.get("location")),
    )

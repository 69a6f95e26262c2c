"""Status changes: every move of the lifecycle goes through `rma_transition`."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from labels.services import label_void
from rma import followups
from rma.errors import RequestError, TransitionError
from rma.models import Notification, Rma, RmaStatus
from rma.policy import StorePolicy
from rma.transitions import EVENT_FOR_STATUS, SHOPPER_CANCELLABLE, is_allowed

from .actors import Actor
from .events import record_event
from .exchanges import exchange_status_changed

# The timestamp field each target status stamps.
TIMESTAMP_FOR_STATUS = {
    RmaStatus.AUTHORIZED: "authorized_at",
    RmaStatus.RECEIVED: "received_at",
    RmaStatus.RESOLVED: "resolved_at",
}


@transaction.atomic
def rma_transition(
    *,
    rma: Rma,
    to_status: str,
    actor: Actor,
    reason: str = "",
    data: dict | None = None,
    now: dt.datetime | None = None,
) -> Rma:
    """Move an RMA to `to_status`: lock, check the move, save, write the event, plan follow-ups.

    Raises `TransitionError` for a move the lifecycle does not allow. Returns the locked,
    updated row (the caller's instance is refreshed too).
    """
    now = now or timezone.now()
    locked = Rma.objects.select_for_update().select_related("store").get(pk=rma.pk)
    from_status = locked.status
    if not is_allowed(from_status, to_status):
        raise TransitionError(
            rma_number=locked.rma_number, from_status=from_status, to_status=to_status
        )
    locked.status = to_status
    changed = ["status", "updated_at"]
    if field := TIMESTAMP_FOR_STATUS.get(to_status):
        setattr(locked, field, now)
        changed.append(field)
    if to_status == RmaStatus.AUTHORIZED:
        locked.expires_at = now + dt.timedelta(days=StorePolicy.of(locked.store).rma_expiry_days)
        changed.append("expires_at")
    if reason:
        locked.status_reason = reason
        changed.append("status_reason")
    locked.save(update_fields=changed)
    record_event(
        rma=locked,
        type=EVENT_FOR_STATUS[to_status],
        actor=actor,
        data={
            "from": from_status,
            "to": to_status,
            **({"reason": reason} if reason else {}),
            **(data or {}),
        },
    )
    # Reserved exchange stock back, or the replacement released, in this transaction.
    exchange_status_changed(rma=locked, to_status=to_status, actor=actor)
    followups.status_changed(rma=locked, to_status=to_status)
    rma.refresh_from_db()
    return locked


def rma_approve(*, rma: Rma, actor: Actor) -> Rma:
    """An agent authorizes a request that needed review; the label and confirmation follow."""
    return rma_transition(rma=rma, to_status=RmaStatus.AUTHORIZED, actor=actor)


def rma_reject(*, rma: Rma, actor: Actor, reason: str) -> Rma:
    """An agent refuses a request; the shopper is told why."""
    if not reason.strip():
        raise RequestError("A reason is required to reject a return.", field="reason")
    return rma_transition(rma=rma, to_status=RmaStatus.REJECTED, actor=actor, reason=reason.strip())


@transaction.atomic
def rma_cancel(*, rma: Rma, actor: Actor, reason: str = "") -> Rma:
    """Cancel a request or an authorized return (shoppers only while it is cancellable).

    Its label is voided (a carrier label refunded) and a dropship supplier told.
    """
    if actor.type == "SHOPPER" and rma.status not in SHOPPER_CANCELLABLE:
        raise TransitionError(
            rma_number=rma.rma_number, from_status=rma.status, to_status=RmaStatus.CANCELLED
        )
    locked = rma_transition(rma=rma, to_status=RmaStatus.CANCELLED, actor=actor, reason=reason)
    _return_ended(locked, kind="supplier_cancelled", reason="cancelled")
    return locked


@transaction.atomic
def rma_expire(*, rma: Rma, now: dt.datetime | None = None) -> Rma:
    """Expire an authorized return not received in time; its quantities become returnable.

    Its label is voided (a carrier label refunded) and a dropship supplier told.
    """
    now = now or timezone.now()
    locked = rma_transition(
        rma=rma, to_status=RmaStatus.EXPIRED, actor=Actor.system("expiry"), now=now
    )
    _return_ended(locked, kind="supplier_expired", reason="expired")
    return locked


def _return_ended(rma: Rma, *, kind: str, reason: str) -> None:
    """A return that will not come: void its label; tell a supplier that expected it."""
    label_void(rma=rma, reason=reason)
    if (
        rma.supplier_id
        and rma.supplier.email
        and Notification.objects.filter(rma=rma, kind="supplier_notice").exists()
    ):
        followups.notification_queue(
            kind=kind, rmas=[rma], key=f"{kind}:rma:{rma.pk}", recipient=rma.supplier.email
        )

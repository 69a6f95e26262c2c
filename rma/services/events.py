"""The audit trail: every change to an RMA writes one event (and its webhook outbox rows)."""

from __future__ import annotations

from rma.models import Rma, RmaEvent
from rma.webhooks import webhook_queue

from .actors import Actor


def record_event(*, rma: Rma, type: str, actor: Actor, data: dict | None = None) -> RmaEvent:
    """Write an `RmaEvent`; webhook deliveries for it join the same transaction."""
    event = RmaEvent.objects.create(
        rma=rma,
        type=type,
        actor_type=actor.type,
        actor_user=actor.user,
        actor_label=actor.label,
        data=data or {},
    )
    webhook_queue(rma=rma, event=event)
    return event

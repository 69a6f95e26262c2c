"""The audit trail: every change to an RMA writes one event (and its webhook outbox rows)."""

from __future__ import annotations

from rma.models import Rma, RmaEvent, WebhookEndpoint
from rma.webhooks import webhook_queue

from .actors import Actor


def record_event(
    *,
    rma: Rma,
    type: str,
    actor: Actor,
    data: dict | None = None,
    endpoints: list[WebhookEndpoint] | None = None,
) -> RmaEvent:
    """Write an `RmaEvent`; webhook deliveries for it join the same transaction.

    `endpoints`: the store's active webhook endpoints, when the caller records several
    events and read them once (`rma.webhooks.webhook_endpoints`).
    """
    event = RmaEvent.objects.create(
        rma=rma,
        type=type,
        actor_type=actor.type,
        actor_user=actor.user,
        actor_label=actor.label,
        data=data or {},
    )
    webhook_queue(rma=rma, event=event, endpoints=endpoints)
    return event

"""The audit trail: every change to an RMA writes one event (and its webhook outbox rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rma.models import Rma, RmaEvent, WebhookEndpoint
from rma.prepared import insert
from rma.webhooks import webhook_queue

from .actors import Actor


@dataclass(frozen=True)
class NewEvent:
    """One event to record with others of the same RMA (`record_events`)."""

    type: str
    actor: Actor
    data: dict = field(default_factory=dict)


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
    [event] = record_events(
        rma=rma, events=[NewEvent(type, actor, data or {})], endpoints=endpoints
    )
    return event


def record_events(
    *,
    rma: Rma,
    events: Sequence[NewEvent],
    endpoints: list[WebhookEndpoint] | None = None,
) -> list[RmaEvent]:
    """Write several events of one RMA, in their order, in one insert (one round trip
    where a request's `rma.created` and `rma.authorized` took two); their webhook
    deliveries too, as `record_event`."""
    created = insert(
        [
            RmaEvent(
                rma=rma,
                type=event.type,
                actor_type=event.actor.type,
                actor_user=event.actor.user,
                actor_label=event.actor.label,
                data=event.data,
            )
            for event in events
        ]
    )
    webhook_queue(rma=rma, events=created, endpoints=endpoints)
    return created

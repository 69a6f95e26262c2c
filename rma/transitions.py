"""The RMA lifecycle (docs/eligibility.md) as data: which status moves are allowed."""

from .models import RmaStatus

S = RmaStatus

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.AUTHORIZED, S.REJECTED, S.CANCELLED}),
    S.AUTHORIZED: frozenset({S.RECEIVED, S.CANCELLED, S.EXPIRED}),
    S.RECEIVED: frozenset({S.RESOLVED}),
    S.RESOLVED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}

# The event type written for each target status (also the webhook event name).
EVENT_FOR_STATUS = {
    S.AUTHORIZED: "rma.authorized",
    S.REJECTED: "rma.rejected",
    S.CANCELLED: "rma.cancelled",
    S.EXPIRED: "rma.expired",
    S.RECEIVED: "rma.received",
    S.RESOLVED: "rma.resolved",
}

SHOPPER_CANCELLABLE = frozenset({S.REQUESTED, S.AUTHORIZED})
ACTIVE_STATUSES = frozenset({S.REQUESTED, S.AUTHORIZED, S.RECEIVED})


def is_allowed(from_status: str, to_status: str) -> bool:
    return to_status in ALLOWED_TRANSITIONS[from_status]

"""What happens after a change commits: labels, emails (webhooks are written by events).

Each function writes the outbox rows inside the caller's transaction and enqueues their
tasks on commit, so nothing is sent for a change that rolls back and nothing is lost
when the broker is down.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import translation

from .models import LabelStatus, Notification, Rma, RmaStatus
from .prepared import insert
from .queue import enqueue_on_commit
from .services.events import record_event

NOTIFICATION_FOR_STATUS = {
    RmaStatus.REJECTED: "rejected",
    RmaStatus.CANCELLED: "cancelled",
    RmaStatus.EXPIRED: "expired",
    RmaStatus.RECEIVED: "received",
    RmaStatus.RESOLVED: "resolved",
}

# Emails that wait until every covered RMA's label is issued or has definitely failed.
LABEL_GATED_KINDS = frozenset({"confirmation", "supplier_notice", "label_reissued"})


def notification_queue(
    *,
    kind: str,
    rmas: list[Rma],
    key: str,
    recipient: str = "",
    new: bool = False,
    enqueue: bool = True,
) -> Notification:
    """Record one email (idempotent by `key`) and send it after commit.

    `new`: the key cannot exist yet (it names something created in this transaction), so
    the row is inserted without looking for it first; were it there, the insert fails.
    `enqueue=False`: the email waits for a label whose task is enqueued with it, and that
    task enqueues the email once the label settles (`rma.tasks.issue_label`).
    """
    first = rmas[0]
    fields = {
        "rma": first,
        "rma_ids": [rma.pk for rma in rmas],
        "kind": kind,
        "recipient": recipient or first.order.customer_email,
        "language": translation.get_language() or "",
    }
    if new:
        notification, created = Notification(idempotency_key=key, **fields), True
        insert([notification])
    else:
        notification, created = Notification.objects.get_or_create(
            idempotency_key=key, defaults=fields
        )
    if created and enqueue:
        enqueue_on_commit("rma.send_notification", notification_id=notification.pk)
    return notification


def request_created(*, rmas: list[Rma]) -> None:
    """After a request: one email for the whole request, labels for what is authorized.

    The request's group and RMAs are new, so are the keys of its emails.
    """
    group = rmas[0].request_group
    pending = [rma for rma in rmas if rma.status == RmaStatus.REQUESTED]
    authorized = [rma for rma in rmas if rma.status == RmaStatus.AUTHORIZED]
    # Items the shopper keeps (resolved at once, no label): told in the same confirmation.
    kept = [rma for rma in rmas if rma.status == RmaStatus.RESOLVED]
    # Goods already taken back (at a store counter): no label, one "received" email.
    received = [rma for rma in rmas if rma.status == RmaStatus.RECEIVED]
    if received:
        notification_queue(
            kind="received_at_counter", rmas=received, key=f"received:{group}", new=True
        )
    if pending:
        notification_queue(
            kind="request_received", rmas=pending, key=f"request_received:{group}", new=True
        )
    if authorized:
        _authorized(authorized, key=f"confirmation:{group}", new=True, also=kept)
    elif kept:
        notification_queue(kind="confirmation", rmas=kept, key=f"confirmation:{group}", new=True)


def status_changed(*, rma: Rma, to_status: str) -> None:
    if to_status == RmaStatus.AUTHORIZED:
        _authorized([rma], key=f"confirmation:rma:{rma.pk}")
    elif kind := NOTIFICATION_FOR_STATUS.get(to_status):
        notification_queue(kind=kind, rmas=[rma], key=f"{kind}:rma:{rma.pk}")


@transaction.atomic
def confirmation_resend(*, rma: Rma, actor) -> Notification:
    """Queue the confirmation again (an agent's resend) as a new email, with its event."""
    count = Notification.objects.filter(rma=rma, kind="confirmation").count()
    notification = notification_queue(
        kind="confirmation", rmas=[rma], key=f"confirmation:rma:{rma.pk}:resend:{count}"
    )
    record_event(
        rma=rma,
        type="notification.resent",
        actor=actor,
        data={"kind": "confirmation", "notification_id": notification.pk},
    )
    return notification


def _authorized(rmas: list[Rma], *, key: str, new: bool = False, also=()) -> None:
    """The confirmation (`also`: kept RMAs of the same request, in the same email), the
    supplier's notice and the label.

    The emails wait for the labels enqueued here (`LABEL_GATED_KINDS`): the label task
    enqueues them once the label settles, so they are not enqueued at commit too (their
    task would find the label pending and do nothing, one more task a request)."""
    labelled = {rma.pk for rma in rmas if rma.label_status == LabelStatus.PENDING}
    notification_queue(
        kind="confirmation", rmas=[*rmas, *also], key=key, new=new, enqueue=not labelled
    )
    for rma in rmas:
        if rma.supplier_id and rma.supplier.email:
            notification_queue(
                kind="supplier_notice",
                rmas=[rma],
                key=f"supplier_notice:rma:{rma.pk}",
                recipient=rma.supplier.email,
                new=new,
                enqueue=rma.pk not in labelled,
            )
        if rma.pk in labelled:
            enqueue_on_commit("rma.issue_label", rma_id=rma.pk)


def shopper_language(rma: Rma | None = None, *, order=None) -> str:
    """The language the shopper's emails (about `rma`, or any of `order`) were written in,
    else "" (the site's default)."""
    if rma is not None:
        emails = Notification.objects.filter(rma__request_group=rma.request_group)
    else:
        emails = Notification.objects.filter(Q(order=order) | Q(rma__order=order))
    language = (
        emails.exclude(language="")
        .order_by("created_at", "pk")
        .values_list("language", flat=True)
        .first()
    )
    return language or ""


def label_reissued_notify(*, rma: Rma, label_id: int) -> Notification:
    """Email the shopper the new label of a re-issue, once per new label.

    Label-gated: it goes out when the new label is issued (or has failed for good), from
    the label task like the confirmation, in the shopper's language.
    """
    with translation.override(shopper_language(rma) or None):
        return notification_queue(
            kind="label_reissued", rmas=[rma], key=f"label_reissued:{label_id}", new=True
        )


def line_returnable_notify(*, override) -> Notification:
    """Tell the shopper that a line of their order can be returned after all.

    For an override that made a line returnable (the caller checks that it did); one email
    per override, about the order (no return exists yet). The email lists the lines that
    are returnable when it is sent, with the portal's link.
    """
    order = override.order_line.order
    key = f"line_returnable:{override.pk}"
    with translation.override(shopper_language(order=order) or None):
        notification, created = Notification.objects.get_or_create(
            idempotency_key=key,
            defaults={
                "order": order,
                "rma_ids": [],
                "kind": "line_returnable",
                "recipient": order.customer_email,
                "language": translation.get_language() or "",
            },
        )
    if created:
        enqueue_on_commit("rma.send_notification", notification_id=notification.pk)
    return notification

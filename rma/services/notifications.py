"""Sending recorded emails exactly once."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from rma.emails import build_email, build_order_email
from rma.followups import LABEL_GATED_KINDS
from rma.models import LabelStatus, Notification, NotificationStatus
from rma.selectors import rmas_with_lines


@transaction.atomic
def notification_send(*, notification_id: int) -> bool:
    """Send a pending notification; True if it was sent now.

    The row stays locked while the email goes out, so a duplicated task waits and then
    finds it SENT. A label-gated email (the confirmation) waits until every covered RMA's
    label is settled; the label task enqueues it again then. A sending error propagates
    (the task retries) and leaves the row PENDING.
    """
    notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
    if notification is None or notification.status != NotificationStatus.PENDING:
        return False
    if notification.rma_id is None:
        # About an order before any return (a line made returnable by an override).
        with translation.override(notification.language or settings.LANGUAGE_CODE):
            message = build_order_email(notification)
        return _send(notification, message)
    rmas = list(
        rmas_with_lines()
        .select_related("supplier")
        .filter(pk__in=notification.rma_ids or [notification.rma_id])
    )
    if notification.kind in LABEL_GATED_KINDS and any(
        rma.label_status == LabelStatus.PENDING for rma in rmas
    ):
        return False
    with translation.override(notification.language or settings.LANGUAGE_CODE):
        message = build_email(notification, rmas)
    return _send(notification, message)


def _send(notification: Notification, message) -> bool:
    notification.attempts += 1
    message.send()
    notification.status = NotificationStatus.SENT
    notification.subject = message.subject
    notification.sent_at = timezone.now()
    notification.save(update_fields=["status", "subject", "sent_at", "attempts"])
    return True


def notifications_waiting_for(*, rma) -> list[int]:
    """Pending label-gated notifications that cover `rma` (to enqueue once its label settles)."""
    candidates = Notification.objects.filter(
        status=NotificationStatus.PENDING,
        kind__in=LABEL_GATED_KINDS,
        rma__request_group=rma.request_group,
    ).values_list("pk", "rma_ids")
    return [pk for pk, rma_ids in candidates if rma.pk in rma_ids]

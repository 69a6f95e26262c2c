"""Celery tasks: thin adapters that load ids and call services.

Every task is idempotent (the service's status checks make a redelivery a no-op),
acknowledged late, and retries only transient failures with backoff and jitter.
"""

from __future__ import annotations

import datetime as dt
import random
import smtplib

from anymail.exceptions import AnymailAPIError, AnymailError
from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from labels.adapters import PermanentLabelError, TransientLabelError
from labels.services import label_claim_lapses_in, label_fail, label_issue

from .errors import TransitionError
from .models import (
    ApiTransaction,
    DeliveryStatus,
    LabelStatus,
    Notification,
    NotificationStatus,
    Rma,
    RmaStatus,
    WebhookDelivery,
)
from .queue import enqueue, enqueue_later
from .services.notifications import notification_send, notifications_waiting_for
from .services.rma_status import rma_expire
from .webhooks import webhook_deliver

NOTIFICATION_GIVE_UP_AFTER = dt.timedelta(days=1)
LABEL_MAX_RETRIES = 6
EMAIL_MAX_RETRIES = 8
TRANSIENT_EMAIL_ERRORS = (OSError, smtplib.SMTPException, AnymailAPIError)
# Seconds after another worker's label claim lapses before a waiting task looks again.
CLAIM_RECHECK_MARGIN = 1.0


def backoff_delay(retries: int, *, base: float = 10.0, cap: float = 30 * 60) -> float:
    """Exponential backoff with full jitter (seconds) for the n-th retry."""
    return random.uniform(base, min(cap, base * 2**retries))  # noqa: S311 (not cryptographic)


@shared_task(name="rma.issue_label", bind=True, acks_late=True, max_retries=LABEL_MAX_RETRIES)
def issue_label(self, *, rma_id: int) -> None:
    try:
        label_issue(rma_id=rma_id)
    except TransientLabelError as error:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=error, countdown=backoff_delay(self.request.retries)) from error
        label_fail(rma_id=rma_id, reason=f"Label service unavailable after retries: {error}")
    except PermanentLabelError as error:
        label_fail(rma_id=rma_id, reason=str(error))
    else:
        lapses_in = label_claim_lapses_in(rma_id=rma_id)
        # Another worker holds the label: a duplicate of a live task, or this is the
        # redelivery of a task whose worker died mid-call. Only the claim's lapse tells
        # them apart, so look again then rather than leave it to the sweeper. (Run
        # eagerly, "again" would be at once, in a loop: the other process finishes it.)
        if lapses_in is not None and not self.request.is_eager:
            enqueue_later("rma.issue_label", lapses_in + CLAIM_RECHECK_MARGIN, rma_id=rma_id)
            return
    rma = Rma.objects.get(pk=rma_id)
    for notification_id in notifications_waiting_for(rma=rma):
        enqueue("rma.send_notification", notification_id=notification_id)


@shared_task(name="rma.send_notification", bind=True, acks_late=True, max_retries=EMAIL_MAX_RETRIES)
def send_notification(self, *, notification_id: int) -> None:
    try:
        notification_send(notification_id=notification_id)
    except TRANSIENT_EMAIL_ERRORS as error:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=error, countdown=backoff_delay(self.request.retries)) from error
        _notification_failed(notification_id, error)
    except AnymailError as error:
        # Every recipient refused, an invalid address: sending again cannot help. Left
        # PENDING, the sweeper would send it again every minute, for ever.
        _notification_failed(notification_id, error)


def _notification_failed(notification_id: int, error: Exception) -> None:
    Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING).update(
        status=NotificationStatus.FAILED, last_error=str(error)[:2000]
    )


@shared_task(name="rma.deliver_webhook", acks_late=True)
def deliver_webhook(*, delivery_id: int) -> None:
    webhook_deliver(delivery_id=delivery_id)


@shared_task(name="rma.expire_overdue", acks_late=True)
def expire_overdue() -> int:
    """Expire AUTHORIZED RMAs past their expiry date (quantities become returnable again)."""
    now = timezone.now()
    overdue = Rma.objects.filter(status=RmaStatus.AUTHORIZED, expires_at__lt=now)
    count = 0
    for rma in overdue.iterator():
        try:
            rma_expire(rma=rma, now=now)
        except TransitionError:
            continue  # received (or cancelled) since the query: nothing to expire
        count += 1
    return count


@shared_task(name="rma.purge_api_transactions", acks_late=True)
def purge_api_transactions() -> int:
    """Forget generateRMA transaction ids after their replay window (at least 7 days)."""
    cutoff = timezone.now() - dt.timedelta(days=settings.API_TRANSACTION_RETENTION_DAYS)
    deleted, _ = ApiTransaction.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task(name="rma.sweep", acks_late=True)
def sweep() -> dict:
    """Re-enqueue outbox work that was committed but never enqueued, or got stuck."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.SWEEPER_GRACE_SECONDS)
    labels = Rma.objects.filter(
        status=RmaStatus.AUTHORIZED, label_status=LabelStatus.PENDING, updated_at__lt=stale
    ).values_list("pk", flat=True)
    notifications = Notification.objects.filter(
        status=NotificationStatus.PENDING, created_at__lt=stale
    ).values_list("pk", flat=True)
    deliveries = WebhookDelivery.objects.filter(
        Q(next_attempt_at__isnull=True, created_at__lt=stale) | Q(next_attempt_at__lt=stale),
        status=DeliveryStatus.PENDING,
    ).values_list("pk", flat=True)
    # An email that could not be sent for a day (a broken template, say) is given up on,
    # visibly, instead of being tried every minute for ever.
    abandoned = Notification.objects.filter(
        status=NotificationStatus.PENDING, created_at__lt=now - NOTIFICATION_GIVE_UP_AFTER
    ).update(status=NotificationStatus.FAILED, last_error="Not sent within a day; given up.")
    counts = {"labels": 0, "notifications": 0, "webhooks": 0, "abandoned": abandoned}
    for rma_id in labels:
        counts["labels"] += enqueue("rma.issue_label", rma_id=rma_id)
    for notification_id in notifications:
        counts["notifications"] += enqueue("rma.send_notification", notification_id=notification_id)
    for delivery_id in deliveries:
        counts["webhooks"] += enqueue("rma.deliver_webhook", delivery_id=delivery_id)
    return counts

"""Outbound webhooks (SPEC section 12): outbox rows written with the change they report."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request

from django.db import transaction
from django.utils import timezone

from .models import DeliveryStatus, Rma, RmaEvent, WebhookDelivery, WebhookEndpoint
from .queue import enqueue_later, enqueue_on_commit

WEBHOOK_EVENTS = frozenset(
    {
        "rma.created",
        "rma.authorized",
        "rma.rejected",
        "rma.label_issued",
        "rma.received",
        "rma.resolved",
        "rma.cancelled",
        "rma.expired",
    }
)


def webhook_payload(*, rma: Rma, event: RmaEvent) -> dict:
    return {
        "event": event.type,
        "eventId": event.pk,
        "occurredAt": event.created_at.isoformat(),
        "store": rma.store.code,
        "orderId": rma.order.order_id,
        "rmaid": rma.rma_number,
        "status": rma.status,
        "data": event.data,
    }


def webhook_queue(*, rma: Rma, event: RmaEvent) -> list[WebhookDelivery]:
    """Write one delivery per subscribed endpoint; delivery starts after commit."""
    if event.type not in WEBHOOK_EVENTS:
        return []
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(store_id=rma.store_id, active=True)
        if not endpoint.events or event.type in endpoint.events
    ]
    if not endpoints:
        return []
    payload = webhook_payload(rma=rma, event=event)
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=endpoint, rma=rma, event=event.type, payload=payload)
            for endpoint in endpoints
        ]
    )
    for delivery in deliveries:
        enqueue_on_commit("rma.deliver_webhook", delivery_id=delivery.pk)
    return deliveries


# Delay before each retry (seconds): together more than 24 hours of attempts.
RETRY_SCHEDULE = (60, 300, 900, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 12 * 3600)
SIGNATURE_HEADER = "X-Returns-Signature"
TIMEOUT_SECONDS = 10


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`; receivers reject old timestamps."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _post(url: str, body: bytes, headers: dict) -> int:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"Unsupported webhook URL scheme: {url}")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@transaction.atomic
def webhook_deliver(*, delivery_id: int) -> bool:
    """Attempt one delivery; True when the receiver accepted it.

    Deliveries for one RMA and endpoint go out in order: a later one waits while an
    earlier one is pending, and each success enqueues the next.
    """
    delivery = (
        WebhookDelivery.objects.select_for_update()
        .select_related("endpoint")
        .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .first()
    )
    now = timezone.now()
    # Not due yet: an eager or early duplicate; the scheduled task or the sweeper comes back.
    if delivery is None or (delivery.next_attempt_at and delivery.next_attempt_at > now):
        return False
    earlier_pending = WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        rma_id=delivery.rma_id,
        status=DeliveryStatus.PENDING,
        pk__lt=delivery.pk,
    ).exists()
    if earlier_pending:
        return False
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "returns-portal-webhooks/1",
        "X-Returns-Event": delivery.event,
        "X-Returns-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: webhook_signature(
            secret=delivery.endpoint.secret, timestamp=int(now.timestamp()), body=body
        ),
    }
    delivery.attempts += 1
    try:
        status = _post(delivery.endpoint.url, body, headers)
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    except (OSError, ValueError) as exc:
        status, error = None, str(exc)[:2000]
    delivery.last_response_status = status
    delivery.last_error = error
    if not error:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        _enqueue_next_in_line(delivery)
    elif delivery.attempts > len(RETRY_SCHEDULE):
        delivery.status = DeliveryStatus.FAILED
    else:
        delay = RETRY_SCHEDULE[delivery.attempts - 1]
        delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
        transaction.on_commit(
            lambda: enqueue_later("rma.deliver_webhook", delay, delivery_id=delivery.pk)
        )
    delivery.save()
    return not error


def _enqueue_next_in_line(delivery: WebhookDelivery) -> None:
    following = (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            rma_id=delivery.rma_id,
            status=DeliveryStatus.PENDING,
            pk__gt=delivery.pk,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if following:
        enqueue_on_commit("rma.deliver_webhook", delivery_id=following)


def webhook_replay(*, delivery: WebhookDelivery) -> None:
    """Send a delivery again (an agent's replay from the admin), whatever its status."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None, last_error=""
    )
    enqueue_on_commit("rma.deliver_webhook", delivery_id=delivery.pk)

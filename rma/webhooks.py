"""Outbound webhooks (docs/webhooks.md): outbox rows written with the change they report."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
import time
import urllib.parse

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, JSONField, OuterRef, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from returns_portal import outbound

from .models import DeliveryStatus, Rma, RmaEvent, WebhookDelivery, WebhookEndpoint
from .prepared import Prepared, insert
from .queue import enqueue_later, enqueue_on_commit
from .selectors import JSONArrayAgg

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
        # The replacement of an exchange may ship (catalogue.services).
        "rma.exchange_released",
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


# Compiled once per process (rma/prepared.py): every RMA created or changed reads them.
_ACTIVE_ENDPOINTS = Prepared(
    lambda *, store_id: WebhookEndpoint.objects.filter(store_id=store_id, active=True),
    store_id=int,
)


def webhook_endpoints(*, store_id: int) -> list[WebhookEndpoint]:
    """The store's active endpoints, for a caller that records several events at once."""
    return _ACTIVE_ENDPOINTS.run(store_id=store_id)


ENDPOINT_FIELDS = WebhookEndpoint._meta.concrete_fields


class EndpointsField(JSONField):
    """A JSON array of endpoint rows (`active_endpoints_of_store`), read back as
    `WebhookEndpoint`s."""

    def from_db_value(self, value, expression, connection):
        rows = super().from_db_value(value, expression, connection) or []
        return [
            WebhookEndpoint.from_db(
                connection.alias,
                [field.attname for field in ENDPOINT_FIELDS],
                [_endpoint_value(field, row[field.attname]) for field in ENDPOINT_FIELDS],
            )
            for row in rows
        ]


def _endpoint_value(field, value):
    if isinstance(field, JSONField) and isinstance(value, str):
        return json.loads(value)  # SQLite nests a JSON column as its text
    if not isinstance(field, DateTimeField) or value is None:
        return value
    # PostgreSQL writes the offset (+00:00); SQLite the stored UTC time without one.
    moment = parse_datetime(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def active_endpoints_of_store() -> Subquery:
    """The active endpoints of the outer query's store, in one column of its row: what
    `webhook_endpoints` reads, without a query of its own (a request reads them with the
    order it locks)."""
    rows = (
        WebhookEndpoint.objects.filter(store=OuterRef("store_id"), active=True)
        .order_by()
        .values("store")
        .annotate(rows=JSONArrayAgg(JSONObject(**{f.attname: f.attname for f in ENDPOINT_FIELDS})))
        .values("rows")
    )
    return Subquery(rows, output_field=EndpointsField())


def webhook_queue(
    *, rma: Rma, events: list[RmaEvent], endpoints: list[WebhookEndpoint] | None = None
) -> list[WebhookDelivery]:
    """Write one delivery per subscribed endpoint and event (one insert for all); delivery
    starts after commit.

    `endpoints`: the store's active endpoints (`webhook_endpoints`) when the caller has
    them already; otherwise they are read here, if any event is one webhooks report.
    """
    events = [event for event in events if event.type in WEBHOOK_EVENTS]
    if not events:
        return []
    if endpoints is None:
        endpoints = webhook_endpoints(store_id=rma.store_id)
    deliveries = insert(
        [
            WebhookDelivery(
                endpoint=endpoint,
                rma=rma,
                event=event.type,
                payload=webhook_payload(rma=rma, event=event),
            )
            for event in events
            for endpoint in endpoints
            if not endpoint.events or event.type in endpoint.events
        ]
    )
    for delivery in deliveries:
        enqueue_on_commit("rma.deliver_webhook", delivery_id=delivery.pk)
    return deliveries


# Delay before each retry (seconds): together more than 24 hours of attempts (about 27 h,
# plus jitter); the attempt after the last delay is the final one.
RETRY_SCHEDULE = (60, 300, 900, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 12 * 3600)
# Each delay is stretched by up to this fraction, so receivers recovering from an outage
# are not hit by every store's retries in the same second.
RETRY_JITTER = 0.1
# A retry task that arrives this early (clock skew between producer and worker) still runs.
DUE_LEEWAY = dt.timedelta(seconds=5)
SIGNATURE_HEADER = "X-Returns-Signature"
SIGNATURE_VERSION = "v1"
TIMEOUT_SECONDS = 10
DEFAULT_TOLERANCE_SECONDS = 300


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`; receivers reject old timestamps."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},{SIGNATURE_VERSION}={digest.hexdigest()}"


def webhook_verify(
    secret: str,
    header: str,
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> bool:
    """True if `header` is a valid signature of the raw request `body` with `secret`.

    The receiver's side of `webhook_signature` (see docs/webhooks.md): the timestamp must
    be within `tolerance` seconds of `now` (replayed old requests are refused), and one of
    the `v1` values must match, compared in constant time. Several `v1` values are
    accepted so a receiver can verify during a secret rotation.
    """
    timestamp = None
    candidates = []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == SIGNATURE_VERSION and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body).split("=")[-1]
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


def _post(url: str, body: bytes, headers: dict) -> int:
    """POST through the outbound guard (public addresses only); redirects are not followed.

    A 3xx is a failed delivery: following it would turn the POST into a GET elsewhere.
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"Unsupported webhook URL scheme: {url}")
    # stream: the receiver's body is never read, only its status.
    with outbound.request(
        "POST", url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, stream=True
    ) as response:
        return response.status_code


def _retry_delay(attempts: int) -> float:
    delay = RETRY_SCHEDULE[attempts - 1]
    return delay * (1 + random.uniform(0, RETRY_JITTER))  # noqa: S311 (not cryptographic)


@transaction.atomic
def webhook_deliver(*, delivery_id: int) -> bool:
    """Attempt one delivery; True when the receiver accepted it (any 2xx).

    Deliveries for one RMA and endpoint go out in order: a later one waits while an
    earlier one is pending, and each delivery that settles (delivered, or failed for
    good) enqueues the next. The row stays locked during the request, so a duplicated
    task waits and then finds it settled. Failures (connection errors, timeouts, non-2xx
    responses, redirects) are retried on `RETRY_SCHEDULE`; then the delivery is FAILED
    and can be replayed from the admin.
    """
    delivery = (
        WebhookDelivery.objects.select_for_update()
        .select_related("endpoint")
        .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .first()
    )
    now = timezone.now()
    # Not due yet: an eager or early duplicate; the scheduled task or the sweeper comes back.
    if delivery is None or (
        delivery.next_attempt_at and delivery.next_attempt_at > now + DUE_LEEWAY
    ):
        return False
    earlier_pending = WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        rma_id=delivery.rma_id,
        status=DeliveryStatus.PENDING,
        pk__lt=delivery.pk,
    ).exists()
    if earlier_pending:
        return False
    changed = ["status", "attempts", "next_attempt_at", "last_response_status", "last_error"]
    if not delivery.endpoint.active:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = "Endpoint is inactive; replay the delivery once it is active."
        delivery.next_attempt_at = None
        delivery.save(update_fields=changed)
        _enqueue_next_in_line(delivery)
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
        # A refused (private) address gives one fixed message: an open and a closed
        # private port must look the same.
        status, error = None, outbound.error_summary(exc)
    delivery.last_response_status = status
    delivery.last_error = error
    if not error:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        changed.append("delivered_at")
        _enqueue_next_in_line(delivery)
    elif delivery.attempts > len(RETRY_SCHEDULE):
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        # Failed for good: later events for this RMA must not wait for it forever.
        _enqueue_next_in_line(delivery)
    else:
        delay = _retry_delay(delivery.attempts)
        delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
        # A countdown longer than the broker's visibility timeout would be handed out again
        # every timeout; such long waits are left to the sweeper, which finds the due row.
        if delay < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] / 2:
            transaction.on_commit(
                lambda: enqueue_later("rma.deliver_webhook", delay, delivery_id=delivery.pk)
            )
    delivery.save(update_fields=changed)
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


@transaction.atomic
def webhook_replay(*, delivery: WebhookDelivery) -> None:
    """Send a delivery again (an agent's replay from the admin), whatever its status.

    The stored payload goes out unchanged (same `eventId`, fresh signature) with a fresh
    retry schedule. It keeps its place in its RMA's order: later pending deliveries for
    the same RMA and endpoint wait for it.
    """
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=None,
        last_error="",
        last_response_status=None,
        delivered_at=None,
    )
    enqueue_on_commit("rma.deliver_webhook", delivery_id=delivery.pk)

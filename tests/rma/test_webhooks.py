"""Webhooks against a real HTTP receiver on 127.0.0.1: signature, retries, order, replay.

These tests commit for real (`transaction=True`) so the outbox rows, the on-commit
enqueueing and the eager Celery tasks run as they do in production.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from celery.app.task import Task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rma.models import DeliveryStatus, LabelStatus, RmaEvent, RmaStatus, WebhookDelivery
from rma.services.actors import Actor
from rma.services.rma_receive import ReceivedLine, rma_receive
from rma.services.rma_resolve import LineResolution, rma_resolve
from rma.services.rma_status import rma_cancel
from rma.tasks import deliver_webhook, sweep
from rma.webhooks import (
    RETRY_SCHEDULE,
    SIGNATURE_HEADER,
    webhook_replay,
    webhook_signature,
    webhook_verify,
)
from tests.factories import StoreFactory, WebhookEndpointFactory, rma_with_lines

START = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
SECRET = "whsec-receiver-test"


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    status: int
    received_at: float = 0.0

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """A real HTTP endpoint in a thread; `answers` are the statuses for the next requests."""

    def __init__(self):
        self.port = 0
        self.answers: list[int | str] = []
        self.requests: list[Received] = []
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = receiver.answers.pop(0) if receiver.answers else 204
                receiver.requests.append(
                    Received(
                        self.path,
                        dict(self.headers),
                        body,
                        0 if answer == "garbage" else answer,
                        time.time(),  # the (travelling) clock of the test
                    )
                )
                if answer == "garbage":
                    self.wfile.write(b"this is not HTTP\r\n\r\n")
                    return
                self.send_response(answer)
                if answer in (301, 302, 307):
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):  # only a followed redirect would arrive here
                receiver.requests.append(Received(self.path, dict(self.headers), b"", 200))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = HTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self) -> None:
        """Close the port: deliveries now fail with connection refused."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self, path: str = "/hooks") -> list[dict]:
        return [r.event for r in self.requests if r.path == path and 200 <= r.status < 300]


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def store(receiver):
    store = StoreFactory(policy={"restocking_fee_percent": "10"})
    WebhookEndpointFactory(store=store, url=receiver.url, secret=SECRET)
    return store


def authorized_rma(store, *quantities):
    return rma_with_lines(
        *(quantities or (2,)), order__store=store, label_status=LabelStatus.NOT_REQUIRED
    )


def receive_all(rma):
    rma_receive(
        rma=rma,
        actor=Actor.system("warehouse"),
        lines=[
            ReceivedLine(line.pk, line.quantity, "AS_NEW", "RESTOCK") for line in rma.lines.all()
        ],
    )


def resolve_all(rma):
    rma_resolve(
        rma=rma,
        actor=Actor.system("agent"),
        lines=[LineResolution(line.pk, "REFUND") for line in rma.lines.all()],
    )


def run_periodic_tasks(clock, *, hours: float, step_minutes: int = 10) -> None:
    """Let time pass; at each step the retry tasks Celery holds (countdown) fire when due."""
    for _ in range(int(hours * 60 / step_minutes)):
        clock.shift(dt.timedelta(minutes=step_minutes))
        due = WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
        ).values_list("pk", flat=True)
        for delivery_id in due:
            deliver_webhook(delivery_id=delivery_id)


# --- signature ------------------------------------------------------------------------


def _signed(body=b'{"event":"rma.received"}', timestamp=1_800_000_000, secret=SECRET):
    return webhook_signature(secret=secret, timestamp=timestamp, body=body), body


def test_verify_accepts_a_fresh_signature_of_the_exact_body():
    header, body = _signed()
    assert webhook_verify(SECRET, header, body, 300, now=1_800_000_100)


@pytest.mark.parametrize(
    ("header", "body", "now"),
    [
        (_signed()[0], b'{"event":"rma.resolved"}', 1_800_000_000),  # body changed
        (_signed(secret="other-secret")[0], _signed()[1], 1_800_000_000),  # wrong secret
        (_signed()[0], _signed()[1], 1_800_000_301),  # too old
        (_signed()[0], _signed()[1], 1_799_999_699),  # too far in the future
        ("v1=" + _signed()[0].split("v1=")[1], _signed()[1], 1_800_000_000),  # no timestamp
        (_signed()[0].split(",")[0], _signed()[1], 1_800_000_000),  # no signature
        ("t=1800000001," + _signed()[0].split(",")[1], _signed()[1], 1_800_000_000),  # other t
        ("", _signed()[1], 1_800_000_000),
        ("garbage", _signed()[1], 1_800_000_000),
        ("t=\u00b2," + _signed()[0].split(",")[1], _signed()[1], 1_800_000_000),
    ],
    ids=[
        "tampered-body",
        "wrong-secret",
        "stale",
        "future",
        "no-timestamp",
        "no-signature",
        "other-timestamp",
        "empty",
        "garbage",
        "superscript-timestamp",
    ],
)
def test_verify_refuses(header, body, now):
    assert not webhook_verify(SECRET, header, body, 300, now=now)


def test_verify_accepts_any_of_several_signatures_during_a_secret_rotation():
    header, body = _signed()
    old, _ = _signed(secret="old-secret")
    rotated = f"{old},{header.split(',')[1]}"
    assert webhook_verify(SECRET, rotated, body, 300, now=1_800_000_000)


@pytest.mark.django_db(transaction=True)
def test_delivery_is_signed_with_the_endpoint_secret(receiver, store, clock):
    rma = authorized_rma(store)
    receive_all(rma)

    [request] = receiver.requests
    header = request.headers[SIGNATURE_HEADER]
    assert webhook_verify(SECRET, header, request.body, 300)
    assert header.startswith(f"t={int(START.timestamp())},v1=")
    assert not webhook_verify("someone-elses-secret", header, request.body, 300)
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Returns-Event"] == "rma.received"
    delivery = WebhookDelivery.objects.get()
    assert request.headers["X-Returns-Delivery"] == str(delivery.pk)
    event = request.event
    assert (event["event"], event["rmaid"], event["status"]) == (
        "rma.received",
        rma.rma_number,
        "RECEIVED",
    )
    assert event["eventId"] == RmaEvent.objects.get(type="rma.received").pk
    assert [line["received_quantity"] for line in event["data"]["lines"]] == [2]
    assert (delivery.status, delivery.attempts, delivery.last_response_status) == (
        DeliveryStatus.DELIVERED,
        1,
        204,
    )
    clock.shift(dt.timedelta(minutes=6))
    assert not webhook_verify(SECRET, header, request.body, 300), "a replayed old request"


# --- retries, order, exactly once ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_receiver_down_then_failing_then_back_every_event_arrives_once_in_order(
    receiver, store, clock
):
    receiver.stop()  # connection refused
    rma = authorized_rma(store, 2, 1)
    receive_all(rma)
    clock.shift(dt.timedelta(minutes=30))
    resolve_all(rma)
    first = WebhookDelivery.objects.get(event="rma.received")
    assert first.status == DeliveryStatus.PENDING
    assert first.attempts == 1
    assert "Connection refused" in first.last_error or "URLError" in first.last_error
    retry_in = first.next_attempt_at - START
    assert dt.timedelta(seconds=60) <= retry_in <= dt.timedelta(seconds=66), "1 min + jitter"

    run_periodic_tasks(clock, hours=2)
    receiver.start()  # back on the same port, but answering errors for a while
    receiver.answers = [500, 503, 500]
    run_periodic_tasks(clock, hours=30)

    events = receiver.accepted()
    assert [event["event"] for event in events] == ["rma.received", "rma.resolved"]
    assert len({event["eventId"] for event in events}) == 2
    assert [r.status for r in receiver.requests] == [500, 503, 500, 204, 204]
    first.refresh_from_db()
    assert first.status == DeliveryStatus.DELIVERED
    assert first.attempts > 4
    assert not WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()
    for request in receiver.requests:
        header = request.headers[SIGNATURE_HEADER]
        assert webhook_verify(SECRET, header, request.body, 300, now=request.received_at)


@pytest.mark.django_db(transaction=True)
def test_a_later_event_waits_for_the_earlier_one_of_its_rma_only(receiver, store, clock):
    rma, other = authorized_rma(store), authorized_rma(store)
    receiver.answers = [500]
    receive_all(rma)  # refused once: pending, retried later
    receive_all(other)  # another RMA: not held up
    resolve_all(rma)  # the receiver is up, but this must wait for rma.received
    assert [(e["rmaid"], e["event"]) for e in receiver.accepted()] == [
        (other.rma_number, "rma.received")
    ]
    waiting = WebhookDelivery.objects.get(rma=rma, event="rma.resolved")
    assert (waiting.status, waiting.attempts) == (DeliveryStatus.PENDING, 0)

    deliver_webhook(delivery_id=waiting.pk)  # a duplicate or early task changes nothing
    assert len(receiver.requests) == 2

    run_periodic_tasks(clock, hours=1)
    assert [(e["rmaid"], e["event"]) for e in receiver.accepted()] == [
        (other.rma_number, "rma.received"),
        (rma.rma_number, "rma.received"),
        (rma.rma_number, "rma.resolved"),
    ]


@pytest.mark.django_db(transaction=True)
def test_after_all_retries_the_delivery_fails_and_a_replay_delivers_it(receiver, store, clock):
    receiver.answers = [500] * (len(RETRY_SCHEDULE) + 1)
    rma = authorized_rma(store)
    receive_all(rma)
    run_periodic_tasks(clock, hours=24)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING, "still retrying after 24 hours"
    # The schedule adds up to 27.4 h, up to 30.1 h with jitter, plus each retry's wait for
    # the next sweep: by 36 h it has certainly run out.
    run_periodic_tasks(clock, hours=12, step_minutes=30)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == len(RETRY_SCHEDULE) + 1
    assert (delivery.last_response_status, delivery.last_error) == (500, "HTTP 500")
    assert receiver.accepted() == []
    run_periodic_tasks(clock, hours=2)
    assert len(receiver.requests) == len(RETRY_SCHEDULE) + 1, "a failed delivery stays failed"

    with transaction.atomic():
        webhook_replay(delivery=delivery)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
    [event] = receiver.accepted()
    assert event["event"] == "rma.received"
    assert event["eventId"] == delivery.payload["eventId"]
    last = receiver.requests[-1]
    assert webhook_verify(SECRET, last.headers[SIGNATURE_HEADER], last.body, 300)


@pytest.mark.django_db(transaction=True)
def test_endpoints_get_only_the_events_they_subscribed_to(receiver, clock):
    store = StoreFactory()
    base = receiver.url.removesuffix("/hooks")
    WebhookEndpointFactory(store=store, url=f"{base}/received-only", events=["rma.received"])
    WebhookEndpointFactory(store=store, url=f"{base}/everything", events=[])
    WebhookEndpointFactory(store=store, url=f"{base}/inactive", active=False)
    WebhookEndpointFactory(url=f"{base}/other-store")
    rma, cancelled = authorized_rma(store), authorized_rma(store)
    receive_all(rma)
    rma_cancel(rma=cancelled, actor=Actor.shopper())

    assert [e["event"] for e in receiver.accepted("/received-only")] == ["rma.received"]
    assert sorted(e["event"] for e in receiver.accepted("/everything")) == [
        "rma.cancelled",
        "rma.received",
    ]
    assert receiver.accepted("/inactive") == []
    assert receiver.accepted("/other-store") == []


@pytest.mark.django_db(transaction=True)
def test_outbox_row_is_part_of_the_change_and_a_rollback_leaves_nothing(receiver, store, clock):
    rma = authorized_rma(store)
    with pytest.raises(RuntimeError), transaction.atomic():
        receive_all(rma)
        assert WebhookDelivery.objects.filter(event="rma.received").exists()
        assert receiver.requests == [], "nothing is sent before the change commits"
        raise RuntimeError("the change fails after the event was written")
    rma.refresh_from_db()
    assert rma.status == RmaStatus.AUTHORIZED
    assert not WebhookDelivery.objects.exists()
    run_periodic_tasks(clock, hours=1)
    assert receiver.requests == []


@pytest.mark.parametrize("answer", [302, 307, "garbage"])
@pytest.mark.django_db(transaction=True)
def test_redirects_and_malformed_responses_are_failed_attempts(receiver, store, clock, answer):
    receiver.answers = [answer]
    rma = authorized_rma(store)
    receive_all(rma)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_error
    assert [r.path for r in receiver.requests] == ["/hooks"], "the redirect is not followed"
    run_periodic_tasks(clock, hours=1)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(receiver.accepted()) == 1


def _broker_down(*args, **kwargs):
    raise ConnectionRefusedError("broker unreachable")


@pytest.mark.django_db(transaction=True)
def test_sweeper_sends_what_was_committed_while_the_broker_was_down(
    receiver, store, clock, monkeypatch
):
    grace = dt.timedelta(seconds=settings.SWEEPER_GRACE_SECONDS + 1)
    monkeypatch.setattr(Task, "apply_async", _broker_down)
    rma = authorized_rma(store)
    receive_all(rma)  # committed; enqueueing failed and was only logged
    monkeypatch.undo()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    sweep()
    assert receiver.requests == [], "young rows are left to their own task"

    receiver.answers = [500]
    clock.shift(grace)
    sweep()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)

    # Without a broker the countdown task ran at once and found nothing due: the sweeper
    # is what retries, once the retry is due and the grace period has passed.
    clock.shift(dt.timedelta(seconds=RETRY_SCHEDULE[0] * 1.1))
    sweep()
    assert len(receiver.requests) == 1
    clock.shift(grace)
    sweep()
    sweep()
    assert [event["event"] for event in receiver.accepted()] == ["rma.received"]
    assert len(receiver.requests) == 2

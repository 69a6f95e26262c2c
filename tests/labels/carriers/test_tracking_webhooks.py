"""Tracking webhooks: EasyPost (HMAC signature) and Shippo (token in the URL)."""

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from labels.models import TrackingEvent
from rma.links import status_path
from rma.models import Notification, RmaEvent
from tests.labels.carriers.support import (
    EASYPOST_WEBHOOK_SECRET,
    SHIPPO_WEBHOOK_TOKEN,
    issued_rma,
)
from tests.labels.fake_easypost import FakeEasyPost
from tests.labels.fake_shippo import FakeShippo

pytestmark = pytest.mark.django_db

EASYPOST_URL = "/webhooks/tracking/easypost"
SHIPPO_URL = "/webhooks/tracking/shippo"


def signed(body: bytes, secret: str = EASYPOST_WEBHOOK_SECRET) -> str:
    return "hmac-sha256-hex=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_easypost(client, document, *, signature=None):
    body = json.dumps(document).encode()
    headers = {} if signature is False else {"X-Hmac-Signature": signature or signed(body)}
    return client.post(EASYPOST_URL, body, content_type="application/json", headers=headers)


def post_shippo(client, document, *, token=SHIPPO_WEBHOOK_TOKEN):
    return client.post(
        f"{SHIPPO_URL}?token={token}", json.dumps(document), content_type="application/json"
    )


def nothing_recorded(rma) -> bool:
    return (
        not TrackingEvent.objects.filter(rma=rma).exists()
        and not RmaEvent.objects.filter(rma=rma, type="rma.tracking_updated").exists()
        and not Notification.objects.filter(rma=rma, kind="in_transit").exists()
    )


def test_easypost_tracking_shows_on_the_status_page_and_emails_the_shopper_once(
    easypost, client, django_capture_on_commit_callbacks
):
    rma, label = issued_rma()
    in_transit = FakeEasyPost.tracker_event(
        label.tracking_number, "in_transit", at="2026-11-27T10:00:00Z", message="Accepted"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = post_easypost(client, in_transit)
    assert response.status_code == 200
    assert response.json() == {"recorded": True, "status": "IN_TRANSIT"}

    # Replayed: refused, nothing new; a later update in transit sends no second email.
    with django_capture_on_commit_callbacks(execute=True):
        assert post_easypost(client, in_transit).status_code == 409
        later = FakeEasyPost.tracker_event(
            label.tracking_number, "in_transit", at="2026-11-27T18:00:00Z"
        )
        assert post_easypost(client, later).status_code == 200
        delivered = FakeEasyPost.tracker_event(
            label.tracking_number, "delivered", at="2026-11-28T09:00:00Z"
        )
        assert post_easypost(client, delivered).status_code == 200

    statuses = list(TrackingEvent.objects.filter(rma=rma).values_list("status", flat=True))
    assert statuses == ["IN_TRANSIT", "IN_TRANSIT", "DELIVERED"]
    emails = [message for message in mail.outbox if "on its way" in message.subject]
    assert len(emails) == 1
    assert emails[0].to == [rma.order.customer_email]
    assert rma.rma_number in emails[0].subject
    assert "on its way back to us" in emails[0].body
    assert Notification.objects.filter(rma=rma, kind="in_transit").count() == 1

    page = client.get(status_path(rma)).content.decode()
    assert 'data-tracking-status="IN_TRANSIT"' in page
    assert 'data-tracking-status="DELIVERED"' in page
    assert "Accepted (Philadelphia, PA, 19103, US)" in page
    assert f"Tracking number: {label.tracking_number}" in page
    assert "Carrier: USPS Priority" in page


@pytest.mark.parametrize(
    "signature",
    [False, "hmac-sha256-hex=00", signed(b"another body"), "sha256=whatever"],
    ids=["missing", "garbage", "other-body", "other-scheme"],
)
def test_a_bad_easypost_signature_is_refused_and_nothing_is_recorded(
    easypost, client, signature, django_capture_on_commit_callbacks
):
    rma, label = issued_rma()
    event = FakeEasyPost.tracker_event(label.tracking_number, "in_transit", at="2026-11-27T10:00Z")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_easypost(client, event, signature=signature)

    assert response.status_code == 401
    assert nothing_recorded(rma)
    assert not any("on its way" in message.subject for message in mail.outbox)


def test_a_signature_under_another_secret_is_refused(easypost, client):
    rma, label = issued_rma()
    body = json.dumps(
        FakeEasyPost.tracker_event(label.tracking_number, "in_transit", at="2026-11-27T10:00Z")
    ).encode()

    response = client.post(
        EASYPOST_URL,
        body,
        content_type="application/json",
        headers={"X-Hmac-Signature": signed(body, "another-secret")},
    )

    assert response.status_code == 401
    assert nothing_recorded(rma)


def test_without_a_configured_secret_every_easypost_webhook_is_refused(easypost, client, settings):
    rma, label = issued_rma()
    settings.EASYPOST_WEBHOOK_SECRET = ""
    event = FakeEasyPost.tracker_event(label.tracking_number, "in_transit", at="2026-11-27T10:00Z")

    assert post_easypost(client, event, signature=signed(b"{}", "")).status_code == 401
    assert nothing_recorded(rma)


def test_unknown_tracking_numbers_and_malformed_bodies_are_refused_with_4xx(easypost, client):
    rma, _ = issued_rma()
    unknown = FakeEasyPost.tracker_event("NOSUCHNUMBER", "in_transit", at="2026-11-27T10:00Z")

    assert post_easypost(client, unknown).status_code == 404
    for body in (b"not json", b"[]", b'{"object": "Event", "description": "tracker.updated"}'):
        response = client.post(
            EASYPOST_URL,
            body,
            content_type="application/json",
            headers={"X-Hmac-Signature": signed(body)},
        )
        assert response.status_code == 400, body
    assert client.get(EASYPOST_URL).status_code == 405
    assert nothing_recorded(rma)


def test_updates_the_product_does_not_show_are_acknowledged_and_ignored(easypost, client):
    rma, label = issued_rma()
    pre_transit = FakeEasyPost.tracker_event(label.tracking_number, "pre_transit", at="2026-11-27")
    other = {"object": "Event", "description": "batch.created", "result": {}}

    for document in (pre_transit, other):
        response = post_easypost(client, document)
        assert response.status_code == 200
        assert response.json()["recorded"] is False
    assert nothing_recorded(rma)


def test_a_tracking_number_of_another_carrier_is_unknown_here(easypost, shippo, client):
    # The label was sold through Shippo (the last fixture configured): EasyPost cannot track it.
    rma, label = issued_rma()
    assert label.service == "shippo"
    event = FakeEasyPost.tracker_event(label.tracking_number, "in_transit", at="2026-11-27T10:00Z")

    assert post_easypost(client, event).status_code == 404
    assert nothing_recorded(rma)


def test_shippo_tracking_is_recorded_with_the_token(
    shippo, client, django_capture_on_commit_callbacks
):
    rma, label = issued_rma()
    number = label.tracking_number

    with django_capture_on_commit_callbacks(execute=True):
        for status, substatus, at in [
            ("TRANSIT", "", "2026-11-27T10:00:00Z"),
            ("TRANSIT", "out_for_delivery", "2026-11-28T07:00:00Z"),
            ("RETURNED", "", "2026-11-29T07:00:00Z"),
            ("FAILURE", "", "2026-11-30T07:00:00Z"),
        ]:
            response = post_shippo(
                client, FakeShippo.track_updated(number, status, at=at, substatus=substatus)
            )
            assert response.status_code == 200, response.content

    statuses = list(TrackingEvent.objects.filter(rma=rma).values_list("status", flat=True))
    assert statuses == ["IN_TRANSIT", "OUT_FOR_DELIVERY", "RETURN_TO_SENDER", "FAILURE"]
    assert len([m for m in mail.outbox if "on its way" in m.subject]) == 1
    replay = FakeShippo.track_updated(number, "TRANSIT", at="2026-11-27T10:00:00Z")
    assert post_shippo(client, replay).status_code == 409
    assert TrackingEvent.objects.filter(rma=rma).count() == 4


@pytest.mark.parametrize("token", ["", "wrong", SHIPPO_WEBHOOK_TOKEN + "x"])
def test_a_bad_shippo_token_is_refused_and_nothing_is_recorded(shippo, client, token):
    rma, label = issued_rma()
    update = FakeShippo.track_updated(label.tracking_number, "TRANSIT", at="2026-11-27T10:00Z")

    assert post_shippo(client, update, token=token).status_code == 401
    assert nothing_recorded(rma)


def test_the_warehouse_sees_the_parcels_expected_today(easypost, client, time_machine):
    from tests.rma.warehouse.conftest import user_with

    # Midday: "today" and "yesterday" cannot move under the test.
    time_machine.move_to(dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC), tick=False)
    coming, coming_label = issued_rma()
    arrived, arrived_label = issued_rma()
    earlier, earlier_label = issued_rma()
    on_the_way, on_the_way_label = issued_rma()
    now = timezone.now()
    yesterday = now - dt.timedelta(days=1)
    for label, status, at in [
        (coming_label, "out_for_delivery", now),
        (arrived_label, "delivered", now),
        (earlier_label, "delivered", yesterday),
        (on_the_way_label, "in_transit", now),
    ]:
        event = FakeEasyPost.tracker_event(label.tracking_number, status, at=at.isoformat())
        assert post_easypost(client, event).status_code == 200

    client.force_login(user_with("receive_rma", username="dock"))
    page = client.get(reverse("warehouse:receive_scan")).content.decode()

    section = page[page.index('data-testid="expected-today"') :]
    assert f'data-rma="{coming.rma_number}"' in section
    assert f'data-rma="{arrived.rma_number}"' in section
    assert earlier.rma_number not in section
    assert on_the_way.rma_number not in section

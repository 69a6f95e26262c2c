"""Webhooks, API keys, stores and the read-only trails in the admin."""

import hashlib

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from rma.models import (
    ApiKey,
    DeliveryStatus,
    Notification,
    RmaStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from rma.services.actors import Actor
from rma.services.events import record_event
from tests.factories import (
    EligibilityOverrideFactory,
    RmaFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_delivery():
    rma = RmaFactory()
    endpoint = WebhookEndpoint.objects.create(
        store=rma.store, url="https://hooks.example/rma", secret="s3cret"
    )
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        rma=rma,
        event="rma.created",
        payload={"event": "rma.created"},
        status=DeliveryStatus.FAILED,
        attempts=9,
        last_error="HTTP 500",
    )


def replay(client, delivery):
    return client.post(
        reverse("admin:rma_webhookdelivery_changelist"),
        {"action": "replay", "_selected_action": [delivery.pk], "index": 0},
        follow=True,
    )


def test_supervisor_replays_a_failed_delivery(
    supervisor, login, failed_delivery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = replay(login(supervisor), failed_delivery)
    failed_delivery.refresh_from_db()
    assert (failed_delivery.status, failed_delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert len(callbacks) == 1
    assert "1 delivery queued again." in [str(m) for m in response.context["messages"]]
    assert LogEntry.objects.get(user=supervisor).change_message == "Replayed"


def test_agent_may_look_but_not_replay(agent, login, failed_delivery):
    client = login(agent)
    page = client.get(reverse("admin:rma_webhookdelivery_changelist"))
    assert page.status_code == 200
    assert page.context["action_form"] is None
    replay(client, failed_delivery)
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == DeliveryStatus.FAILED


def test_delivery_list_searches_by_rma_number(agent, login, failed_delivery):
    changelist = reverse("admin:rma_webhookdelivery_changelist")
    client = login(agent)
    number = failed_delivery.rma.rma_number.replace("-", "").lower()
    assert list(client.get(changelist, {"q": number}).context["cl"].result_list) == [
        failed_delivery
    ]
    assert list(client.get(changelist, {"q": "hooks"}).context["cl"].result_list) == []


def test_new_webhook_endpoint_gets_a_secret_shown_once(supervisor, login):
    store = StoreFactory()
    client = login(supervisor)
    response = client.post(
        reverse("admin:rma_webhookendpoint_add"),
        {
            "store": store.pk,
            "url": "https://erp.example/hooks",
            "events": ["rma.resolved"],
            "active": "on",
        },
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["rma.resolved"]
    assert len(endpoint.secret) > 40
    assert endpoint.secret in response.content.decode()
    change = client.get(reverse("admin:rma_webhookendpoint_change", args=[endpoint.pk]))
    assert endpoint.secret not in change.content.decode()


def test_webhook_endpoints_must_use_https(supervisor, login):
    response = login(supervisor).post(
        reverse("admin:rma_webhookendpoint_add"),
        {"store": StoreFactory().pk, "url": "http://erp.example/hooks", "active": "on"},
    )
    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors
    assert not WebhookEndpoint.objects.exists()


def test_rotating_the_secret_shows_the_new_one(supervisor, login):
    endpoint = WebhookEndpoint.objects.create(
        store=StoreFactory(), url="https://erp.example/hooks", secret="old"
    )
    response = login(supervisor).post(
        reverse("admin:rma_webhookendpoint_changelist"),
        {"action": "rotate_secret", "_selected_action": [endpoint.pk], "index": 0},
    )
    endpoint.refresh_from_db()
    assert endpoint.secret != "old"
    assert endpoint.secret in response.content.decode()


def test_agents_do_not_manage_webhook_endpoints(agent, login):
    assert login(agent).get(reverse("admin:rma_webhookendpoint_changelist")).status_code == 403


def test_api_key_is_shown_once_and_stored_hashed(make_staff, login):
    store = StoreFactory(code="TMSUS")
    client = login(make_staff(None, is_superuser=True))
    response = client.post(reverse("admin:rma_apikey_add"), {"store": store.pk, "name": "ERP"})
    api_key = ApiKey.objects.get()
    raw_key = response.context["raw_key"]
    assert raw_key in response.content.decode()
    assert api_key.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert (
        raw_key
        not in client.get(reverse("admin:rma_apikey_change", args=[api_key.pk])).content.decode()
    )


def test_revoking_an_api_key(make_staff, supervisor, login):
    store = StoreFactory()
    from rma.apikeys import api_key_create

    api_key, _ = api_key_create(store=store, name="ERP")
    changelist = reverse("admin:rma_apikey_changelist")
    supervisor_page = login(supervisor).get(changelist)
    assert supervisor_page.status_code == 200 and supervisor_page.context["action_form"] is None
    login(make_staff(None, is_superuser=True)).post(
        changelist, {"action": "revoke", "_selected_action": [api_key.pk], "index": 0}
    )
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


def test_store_page_shows_the_effective_policy(agent, login):
    store = StoreFactory(policy={"return_window_days": 45, "excluded_states": ["HI", "AK"]})
    text = login(agent).get(reverse("admin:rma_store_change", args=[store.pk])).content.decode()
    text = " ".join(text.split())
    assert "<code>return_window_days</code></th><td>45</td><td>store</td>" in text
    assert "<code>excluded_states</code></th><td>HI, AK</td><td>store</td>" in text
    assert '<code>rma_expiry_days</code></th><td>30</td><td><span class="quiet">default' in text
    assert "<td><code>DEFECTIVE</code></td>" in text  # the built-in reasons


def test_override_list_is_read_only_and_searchable(agent, login):
    override = EligibilityOverrideFactory(order_line__order__order_id="SO-42")
    EligibilityOverrideFactory()
    client = login(agent)
    changelist = reverse("admin:rma_eligibilityoverride_changelist")
    assert list(client.get(changelist, {"q": "so-42"}).context["cl"].result_list) == [override]
    assert client.get(reverse("admin:rma_eligibilityoverride_add")).status_code == 403


def test_event_and_email_lists_search_by_rma_number(agent, login):
    rma = RmaFactory(status=RmaStatus.REQUESTED)
    other = RmaFactory()
    for each in (rma, other):
        record_event(rma=each, type="rma.created", actor=Actor.system())
        Notification.objects.create(
            rma=each,
            rma_ids=[each.pk],
            kind="request_received",
            recipient="ada@example.com",
            idempotency_key=f"request_received:{each.pk}",
        )
    client = login(agent)
    events = client.get(reverse("admin:rma_rmaevent_changelist"), {"q": rma.rma_number.lower()})
    assert [event.rma for event in events.context["cl"].result_list] == [rma]
    emails = client.get(
        reverse("admin:rma_notification_changelist"),
        {"q": rma.rma_number, "kind": "request_received"},
    )
    assert [n.rma for n in emails.context["cl"].result_list] == [rma]
    none = client.get(reverse("admin:rma_notification_changelist"), {"kind": "confirmation"})
    assert list(none.context["cl"].result_list) == []

"""Agents' actions on RMAs through the admin: services called, permissions checked, errors shown."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import ERROR, SUCCESS
from django.urls import reverse

from labels.models import ReturnLabel
from rma.models import LabelStatus, Notification, RmaEvent, RmaStatus
from tests.factories import RmaFactory, RmaLineFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:rma_rma_changelist")


def run_action(client, action, *rmas, **extra):
    data = {
        "action": action,
        "_selected_action": [rma.pk for rma in rmas],
        "index": 0,
        "select_across": 0,
        **extra,
    }
    return client.post(CHANGELIST, data, follow=True)


def confirm_action(client, action, *rmas, **extra):
    """The second step of an action with an intermediate page (no "index" in the POST)."""
    data = {"action": action, "_selected_action": [rma.pk for rma in rmas], "apply": "yes", **extra}
    return client.post(CHANGELIST, data, follow=True)


def messages_of(response):
    return [(message.level, str(message)) for message in response.context["messages"]]


def operation_url(rma, name):
    return reverse("admin:rma_rma_operation", args=[rma.pk, name])


@pytest.fixture
def requested():
    rma = RmaFactory(status=RmaStatus.REQUESTED)
    RmaLineFactory(rma=rma)
    return rma


def test_agent_approves_from_the_list_and_the_event_names_them(agent, login, requested):
    response = run_action(login(agent), "approve_selected", requested)
    requested.refresh_from_db()
    assert requested.status == RmaStatus.AUTHORIZED
    event = requested.events.get(type="rma.authorized")
    assert (event.actor_type, event.actor_user, event.actor_label) == ("AGENT", agent, "agnes")
    assert (SUCCESS, "Approved 1 return.") in messages_of(response)
    assert LogEntry.objects.filter(user=agent, object_id=str(requested.pk)).exists()


def test_approving_a_return_in_the_wrong_state_is_an_error_message_not_a_500(agent, login):
    rejected = RmaFactory(status=RmaStatus.REJECTED)
    fine = RmaFactory(status=RmaStatus.REQUESTED)
    response = run_action(login(agent), "approve_selected", rejected, fine)
    assert response.status_code == 200
    rejected.refresh_from_db()
    fine.refresh_from_db()
    assert (rejected.status, fine.status) == (RmaStatus.REJECTED, RmaStatus.AUTHORIZED)
    assert not rejected.events.exists()
    levels = messages_of(response)
    assert (ERROR, f"RMA {rejected.rma_number} cannot move from REJECTED to AUTHORIZED") in [
        (level, text.split(": ", 1)[1]) for level, text in levels if level == ERROR
    ]
    assert (SUCCESS, "Approved 1 return.") in levels


def test_warehouse_cannot_approve(warehouse, login, requested):
    client = login(warehouse)
    run_action(client, "approve_selected", requested)
    assert client.post(operation_url(requested, "approve")).status_code == 403
    requested.refresh_from_db()
    assert requested.status == RmaStatus.REQUESTED
    assert not requested.events.exists()


def test_reject_asks_for_a_reason_first(agent, login, requested):
    client = login(agent)
    page = run_action(client, "reject_selected", requested)
    assert page.templates[0].name == "admin/rma/rma/operation.html"
    assert requested.rma_number in page.content.decode()

    blank = confirm_action(client, "reject_selected", requested, reason="  ")
    assert blank.templates[0].name == "admin/rma/rma/operation.html"
    assert blank.context["form"].errors["reason"]
    requested.refresh_from_db()
    assert requested.status == RmaStatus.REQUESTED

    done = confirm_action(client, "reject_selected", requested, reason="Worn and washed.")
    requested.refresh_from_db()
    assert (requested.status, requested.status_reason) == (RmaStatus.REJECTED, "Worn and washed.")
    event = requested.events.get(type="rma.rejected")
    assert (event.actor_user, event.data["reason"]) == (agent, "Worn and washed.")
    assert Notification.objects.filter(rma=requested, kind="rejected").exists()
    assert (SUCCESS, "Rejected 1 return.") in messages_of(done)


def test_reject_from_the_detail_page_needs_a_reason(agent, login, requested):
    client = login(agent)
    assert client.get(operation_url(requested, "reject")).status_code == 200
    client.post(operation_url(requested, "reject"), {"reason": ""})
    requested.refresh_from_db()
    assert requested.status == RmaStatus.REQUESTED
    response = client.post(operation_url(requested, "reject"), {"reason": "No proof of purchase"})
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.status == RmaStatus.REJECTED


def test_cancel_with_an_optional_reason(agent, login):
    rma = RmaFactory(status=RmaStatus.AUTHORIZED)
    client = login(agent)
    run_action(client, "cancel_selected", rma)  # the confirmation page
    rma.refresh_from_db()
    assert rma.status == RmaStatus.AUTHORIZED
    confirm_action(client, "cancel_selected", rma, reason="")
    rma.refresh_from_db()
    assert rma.status == RmaStatus.CANCELLED
    assert rma.events.get(type="rma.cancelled").actor_user == agent


def test_detail_button_approves(agent, login, requested):
    response = login(agent).post(operation_url(requested, "approve"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:rma_rma_change", args=[requested.pk])
    requested.refresh_from_db()
    assert requested.status == RmaStatus.AUTHORIZED


def test_detail_button_error_is_a_message(agent, login):
    resolved = RmaFactory(status=RmaStatus.RESOLVED)
    response = login(agent).post(operation_url(resolved, "cancel"), {"reason": ""}, follow=True)
    assert response.status_code == 200
    assert [level for level, _ in messages_of(response)] == [ERROR]
    resolved.refresh_from_db()
    assert resolved.status == RmaStatus.RESOLVED


def test_resend_confirmation_queues_a_new_email_and_records_who(
    agent, login, django_capture_on_commit_callbacks
):
    rma = RmaFactory(status=RmaStatus.AUTHORIZED)
    Notification.objects.create(
        rma=rma,
        rma_ids=[rma.pk],
        kind="confirmation",
        recipient="ada@example.com",
        idempotency_key=f"confirmation:rma:{rma.pk}",
    )
    with django_capture_on_commit_callbacks() as callbacks:
        response = run_action(login(agent), "resend_selected", rma)
    assert Notification.objects.filter(rma=rma, kind="confirmation").count() == 2
    assert rma.events.get(type="notification.resent").actor_user == agent
    assert len(callbacks) == 1, "the new email is sent after commit"
    assert (SUCCESS, "Confirmation queued again for 1 return.") in messages_of(response)


def test_resend_for_a_request_awaiting_review_is_refused(agent, login, requested):
    response = run_action(login(agent), "resend_selected", requested)
    assert not Notification.objects.exists()
    assert [level for level, _ in messages_of(response)] == [ERROR]


def test_reissue_label_voids_the_current_one_and_enqueues_the_label_task(
    agent, login, django_capture_on_commit_callbacks
):
    rma = RmaFactory(status=RmaStatus.AUTHORIZED, label_status=LabelStatus.FAILED)
    failed = ReturnLabel.objects.create(rma=rma, service="builtin", status=LabelStatus.FAILED)
    with django_capture_on_commit_callbacks() as callbacks:
        response = run_action(login(agent), "reissue_selected", rma)
    rma.refresh_from_db()
    assert rma.label_status == LabelStatus.PENDING
    assert ReturnLabel.objects.filter(rma=rma, status=LabelStatus.PENDING).exclude(pk=failed.pk)
    assert RmaEvent.objects.filter(rma=rma, actor_user=agent).exists()
    # The label task, and the email that will carry the new label.
    assert len(callbacks) == 2
    assert (SUCCESS, "New label requested for 1 return.") in messages_of(response)


def test_reissue_needs_the_permission(warehouse, login):
    rma = RmaFactory(status=RmaStatus.AUTHORIZED, label_status=LabelStatus.FAILED)
    assert login(warehouse).post(operation_url(rma, "reissue")).status_code == 403
    rma.refresh_from_db()
    assert rma.label_status == LabelStatus.FAILED


def test_actions_offered_follow_permissions(agent, warehouse, login):
    RmaFactory()
    agent_actions = dict(
        login(agent).get(CHANGELIST).context["action_form"].fields["action"].choices
    )
    assert {
        "approve_selected",
        "reject_selected",
        "cancel_selected",
        "resend_selected",
        "reissue_selected",
    } <= set(agent_actions)
    assert login(warehouse).get(CHANGELIST).context["action_form"] is None


def test_a_bulk_action_over_too_many_rows_is_refused(agent, login, settings):
    from rma.admin import actions

    rmas = [RmaFactory(status=RmaStatus.REQUESTED) for _ in range(3)]
    original = actions.ACTION_LIMIT
    actions.ACTION_LIMIT = 2
    try:
        response = run_action(login(agent), "approve_selected", *rmas)
    finally:
        actions.ACTION_LIMIT = original
    assert [level for level, _ in messages_of(response)] == [ERROR]
    assert not RmaEvent.objects.exists()

"""A re-issued label reaches the shopper by email, once per new label, in their language."""

import pytest
from django.urls import reverse

from labels.models import ReturnLabel
from rma.models import LabelStatus, Notification, NotificationStatus, RmaStatus
from rma.services.notifications import notification_send
from tests.factories import RmaFactory, rma_with_lines

pytestmark = pytest.mark.django_db


def reissue(client, rma):
    return client.post(reverse("admin:rma_rma_operation", args=[rma.pk, "reissue"]))


@pytest.fixture
def rma():
    rma = rma_with_lines(1, label_status=LabelStatus.FAILED)
    rma.first_label = ReturnLabel.objects.create(
        rma=rma, service="builtin", status=LabelStatus.FAILED
    )
    return rma


def test_the_new_label_goes_out_once_issued(
    agent, login, rma, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = reissue(login(agent), rma)
    assert response.status_code == 302
    rma.refresh_from_db()
    assert rma.label_status == LabelStatus.ISSUED
    [notification] = Notification.objects.filter(rma=rma, kind="label_reissued")
    assert notification.status == NotificationStatus.SENT
    [email] = mailoutbox
    assert email.subject.endswith(f"A new return label for your return {rma.rma_number}")
    assert "The previous label no longer works" in email.body
    assert [name for name, _, _ in email.attachments] == [f"return-label-{rma.rma_number}.pdf"]
    # A redelivered task sends nothing more.
    assert notification_send(notification_id=notification.pk) is False
    assert len(mailoutbox) == 1


def test_each_reissue_is_its_own_email(
    agent, login, rma, mailoutbox, django_capture_on_commit_callbacks
):
    client = login(agent)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            reissue(client, rma)
    keys = sorted(
        Notification.objects.filter(kind="label_reissued").values_list("idempotency_key", flat=True)
    )
    labels = ReturnLabel.objects.filter(rma=rma).exclude(pk=rma.first_label.pk)
    assert keys == sorted(f"label_reissued:{label.pk}" for label in labels)
    assert len(mailoutbox) == 2


def test_the_email_waits_while_the_label_is_pending(
    agent, login, rma, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        reissue(login(agent), rma)
    notification = Notification.objects.get(kind="label_reissued")
    assert notification_send(notification_id=notification.pk) is False
    assert mailoutbox == []
    assert len(callbacks) == 2


def test_the_email_is_in_the_shoppers_language(
    agent, login, rma, mailoutbox, django_capture_on_commit_callbacks
):
    Notification.objects.create(
        rma=rma,
        kind="confirmation",
        recipient="ada@example.com",
        idempotency_key="c",
        language="de",
        status=NotificationStatus.SENT,
    )
    with django_capture_on_commit_callbacks(execute=True):
        reissue(login(agent), rma)
    [email] = mailoutbox
    assert Notification.objects.get(kind="label_reissued").language == "de"
    assert "Rücksendeetikett" in email.subject


def test_a_refused_reissue_sends_nothing(
    agent, login, mailoutbox, django_capture_on_commit_callbacks
):
    resolved = RmaFactory(status=RmaStatus.RESOLVED, label_status=LabelStatus.ISSUED)
    with django_capture_on_commit_callbacks(execute=True):
        reissue(login(agent), resolved)
    assert not Notification.objects.filter(kind="label_reissued").exists()
    assert mailoutbox == []

"""Sending email fails: a transient error is retried and the email sent once; a refusal
is final and never sent again (not by the retries, not by the sweeper)."""

import smtplib

import pytest
from anymail.exceptions import AnymailRecipientsRefused

from rma.models import Notification, NotificationStatus
from rma.tasks import sweep

from .email_backends import FlakyEmailBackend
from .pipeline import assert_confirmed_once, request_return, wait_for, wait_until_idle

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def flaky_email(settings):
    settings.EMAIL_BACKEND = f"{FlakyEmailBackend.__module__}.FlakyEmailBackend"
    # No label to wait for: the confirmation goes out at once.
    settings.LABEL_SERVICE = "none"
    yield FlakyEmailBackend
    FlakyEmailBackend.script()


def settled(rma) -> bool:
    return (
        Notification.objects.get(rma=rma, kind="confirmation").status != NotificationStatus.PENDING
    )


def test_a_mail_server_that_is_down_is_retried_and_the_email_sent_once(
    flaky_email, backoff_delays, broker, start_embedded_worker, sent_emails, order
):
    flaky_email.script(
        ConnectionRefusedError(111, "Connection refused"),
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
    )
    start_embedded_worker()
    rma = request_return(order)

    wait_for(lambda: settled(rma), what="the confirmation to be sent")
    wait_until_idle(broker)

    assert flaky_email.attempts == 3
    assert backoff_delays == [0, 1]
    assert_confirmed_once(rma, sent_emails())


def test_a_refused_recipient_fails_the_email_at_once_and_the_sweeper_leaves_it(
    settings, flaky_email, backoff_delays, broker, start_embedded_worker, sent_emails, order
):
    settings.SWEEPER_GRACE_SECONDS = 0
    flaky_email.script(AnymailRecipientsRefused("All recipients were rejected"))
    start_embedded_worker()
    rma = request_return(order)

    wait_for(lambda: settled(rma), what="the confirmation to be settled")
    wait_until_idle(broker)

    notification = Notification.objects.get(rma=rma, kind="confirmation")
    assert notification.status == NotificationStatus.FAILED
    assert "rejected" in notification.last_error
    assert sweep()["notifications"] == 0
    wait_until_idle(broker)
    assert flaky_email.attempts == 1
    assert backoff_delays == []
    assert sent_emails() == []

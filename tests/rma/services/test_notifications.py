"""Exactly-once email: a redelivered or duplicated send task never sends a second email.

The send task is acknowledged late, so a worker that dies after sending (or a broker that
redelivers) runs it again, and the sweeper may enqueue a copy while one is in flight. The
service's row lock and its "still PENDING" check make every copy after the first a no-op.
"""

import threading
import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection

from rma.models import LabelStatus, Notification, NotificationStatus
from rma.tasks import send_notification
from tests.factories import rma_with_lines

# Generous: only reached if the code under test hangs, never on a merely slow machine.
DEADLINE = 60.0
POLL = 0.02


def pending_confirmation() -> Notification:
    """A committed confirmation email waiting to be sent (its RMA needs no label)."""
    rma = rma_with_lines(1, label_status=LabelStatus.NOT_REQUIRED)
    return Notification.objects.create(
        rma=rma,
        rma_ids=[rma.pk],
        kind="confirmation",
        recipient=rma.order.customer_email,
        idempotency_key=f"confirmation:{rma.request_group}",
    )


@pytest.mark.django_db
def test_a_send_task_redelivered_after_success_sends_nothing_more():
    notification = pending_confirmation()

    send_notification.apply(kwargs={"notification_id": notification.pk}).get()
    send_notification.apply(kwargs={"notification_id": notification.pk}).get()

    assert [message.to for message in mail.outbox] == [[notification.recipient]]
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.attempts == 1
    assert notification.subject == mail.outbox[0].subject


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def blocked_by(pid: int, blocker: int) -> bool:
    """Whether backend `pid` is waiting for a lock that backend `blocker` holds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s = ANY(pg_blocking_pids(%s))", [blocker, pid])
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_duplicate_send_tasks_racing_on_two_connections_send_one_email(monkeypatch):
    """Two workers run the same send task at the same moment, each on its own connection.

    Whichever sends first holds it at the SMTP step until the other copy is either
    waiting for the notification's row lock (the correct outcome: it then finds the row
    SENT) or has reached the SMTP step too (a second email: the lock or the PENDING check
    is missing). Neither outcome depends on how fast the machine is.
    """
    notification = pending_confirmation()
    pids: dict[str, int] = {}
    at_smtp: list[str] = []
    state = threading.Condition()
    start = threading.Barrier(2, timeout=DEADLINE)
    errors: list[BaseException] = []
    send_messages = EmailBackend.send_messages

    def held_at_smtp(backend, messages):
        me = threading.current_thread().name
        [other] = set(pids) - {me}
        with state:
            at_smtp.append(me)
            state.notify_all()
        deadline = time.monotonic() + DEADLINE
        while True:
            with state:
                if len(at_smtp) > 1:
                    break
            if blocked_by(pids[other], pids[me]):
                break
            if time.monotonic() > deadline:
                raise AssertionError("the other copy neither waited for the lock nor sent")
            with state:
                state.wait(POLL)
        return send_messages(backend, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", held_at_smtp)

    def worker():
        try:
            pids[threading.current_thread().name] = backend_pid()
            start.wait()
            send_notification.apply(kwargs={"notification_id": notification.pk}).get()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, name=f"worker-{n}") for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE * 2)

    assert not [thread for thread in threads if thread.is_alive()]
    assert errors == []
    assert len(at_smtp) == 1, f"both copies reached the SMTP step: {at_smtp}"
    assert [message.to for message in mail.outbox] == [[notification.recipient]]
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.SENT, 1)

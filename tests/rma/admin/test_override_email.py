"""An override that makes a line returnable tells the shopper, once, through the outbox."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from rma.models import Notification, NotificationStatus
from rma.services.notifications import notification_send
from tests.factories import OrderFactory, OrderLineFactory, RmaFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    """Line 1 out of its window only (1006); line 2 out of its window and hazmat (1006, 1016)."""
    late = timezone.now() - dt.timedelta(days=90)
    order = OrderFactory(
        order_id="SO-200",
        store=StoreFactory(code="LATE", timezone="Europe/Berlin"),
        customer_name="Ada Lovelace",
    )
    OrderLineFactory(order=order, line_number=1, item_id="MUG", title="Mug", delivered_at=late)
    OrderLineFactory(order=order, line_number=2, item_id="BATTERY", hazmat=True, delivered_at=late)
    return order


def override(client, order, line_number, code="RMA 1006"):
    line = order.lines.get(line_number=line_number)
    return client.post(
        reverse("admin:rma_order_override", args=[order.pk, line.pk]),
        {"code": code, "justification": "Customer was abroad"},
    )


def test_a_line_made_returnable_is_emailed_to_the_shopper(
    agent, login, order, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert override(login(agent), order, 1).status_code == 302
    notification = Notification.objects.get(kind="line_returnable")
    assert (notification.order, notification.rma, notification.status) == (
        order,
        None,
        NotificationStatus.SENT,
    )
    [email] = mailoutbox
    assert email.to == [order.customer_email]
    assert email.subject == "Store LATE: Items of your order SO-200 can be returned"
    assert "Hello Ada Lovelace," in email.body
    assert "2 \u00d7 Mug (MUG)" in email.body
    assert "BATTERY" not in email.body
    assert "/returns/" not in email.body and "http" in email.body
    # Exactly once: the task delivered again sends nothing.
    assert notification_send(notification_id=notification.pk) is False
    assert len(mailoutbox) == 1


def test_an_override_that_leaves_the_line_ineligible_sends_nothing(
    supervisor, login, order, mailoutbox, django_capture_on_commit_callbacks
):
    # Line 2 still fails 1016 after its window is overridden.
    with django_capture_on_commit_callbacks(execute=True):
        assert override(login(supervisor), order, 2).status_code == 302
    assert not Notification.objects.exists()
    assert mailoutbox == []
    # Lifting the second rule makes it returnable: now the shopper hears of it.
    with django_capture_on_commit_callbacks(execute=True):
        override(login(supervisor), order, 2, code="RMA 1016")
    [email] = mailoutbox
    assert "BATTERY" in email.body


def test_a_refused_override_sends_nothing(
    agent, login, order, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = override(login(agent), order, 2, code="RMA 1016")  # supervisors only
    assert response.status_code == 200
    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_the_email_speaks_the_shoppers_language(
    agent, login, order, mailoutbox, django_capture_on_commit_callbacks
):
    earlier = RmaFactory(order=order)
    Notification.objects.create(
        rma=earlier,
        kind="confirmation",
        recipient="a@example.com",
        idempotency_key="x",
        language="de",
        status=NotificationStatus.SENT,
    )
    with django_capture_on_commit_callbacks(execute=True):
        override(login(agent), order, 1)
    [email] = mailoutbox
    assert "können zurückgegeben werden" in email.subject


def test_the_order_email_is_listed_for_the_orders_store_only(
    make_staff, login, order, django_capture_on_commit_callbacks, agent
):
    with django_capture_on_commit_callbacks(execute=True):
        override(login(agent), order, 1)
    notification = Notification.objects.get(kind="line_returnable")
    url = reverse("admin:rma_notification_changelist")
    own = make_staff(None, username="own", stores=[order.store])
    own.user_permissions.add(Permission.objects.get(codename="view_notification"))
    page = login(own).get(url)
    assert notification in page.context["cl"].result_list
    assert "SO-200" in page.content.decode()
    other = make_staff(None, username="other", stores=[StoreFactory(code="ELSE")])
    other.user_permissions.add(Permission.objects.get(codename="view_notification"))
    assert notification not in login(other).get(url).context["cl"].result_list


def test_the_purge_removes_the_shoppers_address_from_order_emails(
    agent, login, order, django_capture_on_commit_callbacks
):
    from rma.services.retention import personal_data_purge

    with django_capture_on_commit_callbacks(execute=True):
        override(login(agent), order, 1)
    personal_data_purge(older_than=dt.timedelta(days=1))
    notification = Notification.objects.get(kind="line_returnable")
    assert notification.recipient.startswith("removed@")

"""The retention job forgets personal data and keeps the statistics."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from rma.models import Order, RmaStatus
from rma.services.retention import personal_data_purge
from tests.factories import OrderFactory, OrderLineFactory, RmaFactory, RmaLineFactory

pytestmark = pytest.mark.django_db


def old_order_with_return(status=RmaStatus.RESOLVED, days=800):
    order = OrderFactory(placed_at=timezone.now() - dt.timedelta(days=days), customer_name="Ada")
    line = OrderLineFactory(order=order)
    rma = RmaFactory(order=order, status=status, customer_comment="call me on 555-0101")
    rma.label_file.save("label.pdf", ContentFile(b"%PDF-1.7"), save=True)
    RmaLineFactory(
        rma=rma,
        order_line=line,
        quantity=1,
        received_quantity=1,
        refund_amount="39.99",
        customer_comment="my address is …",
    )
    return order, rma


def test_old_orders_lose_personal_data_and_keep_statistics():
    order, rma = old_order_with_return()
    label_name = rma.label_file.name
    result = personal_data_purge(older_than=dt.timedelta(days=730))
    order.refresh_from_db()
    rma.refresh_from_db()
    assert result.orders == 1
    assert result.labels == 1
    assert order.customer_name == ""
    assert order.customer_email == f"order-{order.pk}@anonymised.invalid"
    assert order.shipping_address == {"state": "PA", "country": "US"}
    assert rma.customer_comment == "" and not rma.label_file
    assert not default_storage.exists(label_name)
    line = rma.lines.get()
    assert line.customer_comment == ""
    assert (line.quantity, line.received_quantity, str(line.refund_amount)) == (1, 1, "39.99")
    assert rma.status == RmaStatus.RESOLVED


def test_recent_orders_and_orders_with_active_returns_are_kept():
    recent, _ = old_order_with_return(days=10)
    active, _ = old_order_with_return(status=RmaStatus.AUTHORIZED)
    personal_data_purge(older_than=dt.timedelta(days=730))
    assert Order.objects.get(pk=recent.pk).customer_email == "ada@example.com"
    assert Order.objects.get(pk=active.pk).customer_email == "ada@example.com"


def test_the_command_runs_the_job_and_is_repeatable(capsys):
    old_order_with_return()
    call_command("purge_personal_data", "--days", "730")
    call_command("purge_personal_data", "--days", "730")
    output = capsys.readouterr().out
    assert "Anonymised 1 orders" in output
    assert "Anonymised 0 orders" in output

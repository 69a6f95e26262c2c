"""CSV export of RMAs: what a row holds, formula cells neutralised, streamed, permitted."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rma.admin.export import COLUMNS, csv_safe
from rma.models import Rma, RmaStatus
from tests.factories import OrderFactory, StoreFactory, rma_with_lines

pytestmark = pytest.mark.django_db

EXPORT = reverse("admin:rma_rma_export")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (Decimal("12.50"), "12.50"),
    ],
)
def test_csv_safe(value, cell):
    assert csv_safe(value) == cell


def rows_of(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def hostile_rma():
    store = StoreFactory(code="CSV", timezone="Europe/Berlin")
    order = OrderFactory(
        store=store, customer_name="=cmd|' /C calc'!A0", customer_email="-x@example.com"
    )
    rma = rma_with_lines(2, order=order, status=RmaStatus.RESOLVED, customer_comment="@evil")
    rma.lines.update(refund_amount=Decimal("20.00"), reason_code="DEFECTIVE")
    Rma.objects.filter(pk=rma.pk).update(created_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC))
    return rma


def test_export_row(agent, login, hostile_rma):
    response = login(agent).get(EXPORT, {"date_from": "2026-03-01", "date_to": "2026-03-05"})
    [row] = rows_of(response)
    assert list(row) == list(COLUMNS)
    assert row["rma_number"] == hostile_rma.rma_number
    assert row["store"] == "CSV"
    assert row["customer_name"] == "'=cmd|' /C calc'!A0"
    assert row["customer_email"] == "'-x@example.com"
    assert row["customer_comment"] == "'@evil"
    assert row["status"] == "Resolved"
    assert row["reasons"] == "Defective or damaged"
    assert (row["units"], row["refund_amount"], row["currency"]) == ("2", "20.00", "USD")
    # 23:30 UTC is already the next day in Berlin: the store's time zone.
    assert row["created_at"] == "2026-03-02T00:30:00+01:00"


def test_export_follows_the_period(agent, login, hostile_rma):
    outside = login(agent).get(EXPORT, {"date_from": "2026-04-01", "date_to": "2026-04-05"})
    assert rows_of(outside) == []


def test_export_action_on_selected_rows(agent, login, hostile_rma):
    other = rma_with_lines(1)
    response = login(agent).post(
        reverse("admin:rma_rma_changelist"),
        {"action": "export_csv", ACTION_CHECKBOX_NAME: [str(hostile_rma.pk)]},
    )
    rows = rows_of(response)
    assert [row["rma_number"] for row in rows] == [hostile_rma.rma_number]
    assert other.rma_number not in str(rows)


def test_export_needs_permission_to_see_returns(make_staff, login):
    nobody = make_staff(None, username="no-perms")
    response = login(nobody).get(EXPORT)
    assert response.status_code == 403


def test_the_dashboard_links_the_export_with_its_filters(agent, login):
    page = login(agent).get(
        reverse("admin:rma_dashboard"), {"date_from": "2026-03-01", "date_to": "2026-03-05"}
    )
    assert f'href="{EXPORT}?date_from=2026-03-01&amp;date_to=2026-03-05"' in page.content.decode()


def test_export_queries_do_not_grow_with_the_rows(agent, login, hostile_rma):
    client = login(agent)
    params = {"date_from": "2026-03-01", "date_to": "2026-03-05"}

    def export():
        with CaptureQueriesContext(connection) as queries:
            rows = rows_of(client.get(EXPORT, params))
        return len(rows), len(queries)

    one_row, before = export()
    for _ in range(5):
        rma = rma_with_lines(1, 1, order=OrderFactory(store=hostile_rma.store))
        Rma.objects.filter(pk=rma.pk).update(created_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    six_rows, after = export()
    assert (one_row, six_rows) == (1, 6)
    assert after == before

"""The dashboard's money and speed figures, on a history with known answers."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labels.models import ReturnLabel
from payments.models import Refund
from rma.admin.dashboard import percentile
from rma.models import LabelStatus, Resolution, Rma, RmaStatus
from tests.factories import OrderFactory, OrderLineFactory, RmaFactory, RmaLineFactory, StoreFactory

pytestmark = pytest.mark.django_db

URL = reverse("admin:rma_dashboard")
PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-10"}


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


def resolved(store, *, outcome, created, resolved_at, unit_price="25.00", quantity=2, **amounts):
    """A resolved RMA of one line (1 unit received) with `outcome` and its amounts."""
    line = OrderLineFactory(
        order=OrderFactory(store=store, placed_at=at(1, 0)),
        quantity=quantity,
        unit_price=Decimal(unit_price),
        item_id=f"ITEM-{outcome}",
        department="Shirts",
    )
    rma = RmaFactory(order=line.order, status=RmaStatus.RESOLVED, resolution=outcome)
    RmaLineFactory(
        rma=rma,
        order_line=line,
        quantity=1,
        received_quantity=1,
        outcome=outcome,
        reason_code="DEFECTIVE",
        **{key: Decimal(value) for key, value in amounts.items()},
    )
    Rma.objects.filter(pk=rma.pk).update(created_at=created, resolved_at=resolved_at)
    return rma


@pytest.fixture
def history():
    store = StoreFactory(code="MONEY", currency="USD", timezone="UTC")
    refund = resolved(
        store,
        outcome=Resolution.REFUND,
        created=at(1, 10),
        resolved_at=at(3, 10),
        refund_amount="30.00",
    )
    # The provider's success came a day after the resolution: 72 hours from the request.
    Refund.objects.create(
        rma=refund,
        service="stripe",
        amount=Decimal("30.00"),
        currency="USD",
        idempotency_key="r1",
        status="SUCCEEDED",
        succeeded_at=at(4, 10),
    )
    resolved(
        store,
        outcome=Resolution.STORE_CREDIT,
        created=at(2),
        resolved_at=at(3),
        store_credit_amount="20.00",
    )
    # A cheaper variant: 25.00 paid, 5.00 difference refunded, 20.00 kept as an exchange.
    resolved(
        store,
        outcome=Resolution.EXCHANGE,
        created=at(2, 0),
        resolved_at=at(3, 0),
        refund_amount="5.00",
    )
    resolved(
        store,
        outcome=Resolution.REFUND,
        created=at(5, 0),
        resolved_at=at(5, 12),
        refund_amount="10.00",
    )
    # Still waiting at the provider: no refund has reached the shopper yet.
    waiting = resolved(
        store,
        outcome=Resolution.REFUND,
        created=at(6, 0),
        resolved_at=at(6, 1),
        refund_amount="1.00",
    )
    Refund.objects.create(
        rma=waiting,
        service="stripe",
        amount=Decimal("1.00"),
        currency="USD",
        idempotency_key="r2",
        status="PENDING",
    )
    # Resolved outside the period: counts nowhere.
    resolved(
        store,
        outcome=Resolution.REFUND,
        created=at(1),
        resolved_at=at(20),
        refund_amount="999.00",
    )
    labelled = RmaFactory(order=OrderFactory(store=store), status=RmaStatus.AUTHORIZED)
    for status, rate, issued, refund_status in [
        (LabelStatus.ISSUED, "7.50", at(2), ""),
        (LabelStatus.VOIDED, None, at(3), ""),  # the builtin label: no price, counts as 0
        (LabelStatus.VOIDED, "9.00", at(4), "REFUNDED"),  # the carrier paid it back
        (LabelStatus.VOIDED, "4.00", at(25), ""),  # outside the period
    ]:
        ReturnLabel.objects.create(
            rma=labelled,
            status=status,
            service="easypost",
            issued_at=issued,
            rate=Decimal(rate) if rate else None,
            rate_currency="USD" if rate else "",
            refund_status=refund_status,
        )
    return store


def test_resolved_value_and_retained_revenue(agent, login, history):
    data = login(agent).get(URL, PERIOD).context["data"]
    [money] = data.money
    assert money.currency == "USD"
    assert money.refunded == Decimal("46.00")  # 30 + 5 (exchange difference) + 10 + 1
    assert money.store_credit == Decimal("20.00")
    assert money.exchanged == Decimal("20.00")
    assert money.resolved_value == Decimal("86.00")
    assert money.retained == Decimal("40.00")
    assert money.retained_percent == Decimal("46.5")
    outcomes = {row.outcome: (row.units, row.value) for row in money.outcomes}
    assert outcomes == {
        "REFUND": (3, Decimal("41.00")),
        "STORE_CREDIT": (1, Decimal("20.00")),
        "EXCHANGE": (1, Decimal("20.00")),
    }


def test_time_from_request_to_refund(agent, login, history):
    durations = login(agent).get(URL, PERIOD).context["data"].time_to_refund
    # 72 h (provider), 24 h (exchange difference at resolution), 12 h; the pending one waits.
    assert durations.count == 3
    assert durations.median_hours == Decimal("24.0")
    assert durations.p90_hours == Decimal("62.4")


def test_label_spend(agent, login, history):
    spend = login(agent).get(URL, PERIOD).context["data"].label_spend
    assert spend == [("USD", Decimal("7.50"), 2)]


def test_the_page_prints_every_figure_in_words_and_numbers(agent, login, history):
    page = login(agent).get(URL, PERIOD).content.decode()
    assert 'data-testid="retained">$40.00 (46.5 %)' in page
    assert "24.0 hours" in page and "62.4 hours" in page
    # The resolution mix chart labels each bar and prints its value.
    assert 'data-key="STORE_CREDIT" data-label="Store credit"' in page
    assert "$20.00 (1)" in page


def test_return_rates_by_item_and_reason(agent, login, history):
    data = login(agent).get(URL, PERIOD).context["data"]
    # Six orders placed on March 1st, 2 units each, one unit returned from each (four of
    # them refunds, one resolved after the period: the cohort is by order date).
    rates = {
        rate.key: (rate.sold_units, rate.returned_units, rate.rate_percent)
        for rate in data.item_rates
    }
    assert rates["ITEM-REFUND"] == (8, 4, Decimal("50.0"))
    assert rates["ITEM-EXCHANGE"] == (2, 1, Decimal("50.0"))
    [reason] = data.reason_rates
    assert (reason.key, reason.title, reason.returned_units, reason.sold_units) == (
        "DEFECTIVE",
        "Defective or damaged",
        6,
        12,
    )
    assert reason.rate_percent == Decimal("50.0")


def test_money_queries_do_not_grow_with_the_data(agent, login, history):
    client = login(agent)
    client.get(URL, PERIOD)
    with CaptureQueriesContext(connection) as before:
        client.get(URL, PERIOD)
    for day in range(2, 8):
        resolved(
            history,
            outcome=Resolution.STORE_CREDIT,
            created=at(day),
            resolved_at=at(day + 1),
            store_credit_amount="3.00",
        )
    with CaptureQueriesContext(connection) as after:
        client.get(URL, PERIOD)
    assert len(after) == len(before)


def test_no_money_no_figures(agent, login):
    data = login(agent).get(URL, PERIOD).context["data"]
    assert data.money == [] and data.label_spend == []
    assert data.time_to_refund.count == 0


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([Decimal(1)], 50, Decimal(1)),
        ([Decimal(1), Decimal(3)], 50, Decimal(2)),
        ([Decimal(12), Decimal(24), Decimal(72)], 90, Decimal("62.4")),
        ([Decimal(n) for n in range(1, 11)], 90, Decimal("9.1")),
    ],
)
def test_percentile(values, p, expected):
    assert percentile(values, p) == expected


def test_amounts_are_in_the_agents_language(agent, login, history):
    page = login(agent).get(URL, PERIOD, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'retained">40,00\xa0$ (46,5 %)' in page, page[page.find('retained">') :][:60]
    assert "20,00\xa0$ (1)" in page

"""The returns dashboard: the right numbers, drawn server-side, for those allowed to see it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rma.admin.dashboard import reason_words
from rma.models import Rma, RmaStatus
from tests.factories import OrderFactory, OrderLineFactory, RmaFactory, RmaLineFactory, StoreFactory

pytestmark = pytest.mark.django_db

URL = reverse("admin:rma_dashboard")
PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-07"}


def at(day: int, hour: int = 12, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


def rma_on(line, *, status, quantity, reason, created_at, received_quantity=None):
    rma = RmaFactory(order=line.order, status=status)
    RmaLineFactory(
        rma=rma,
        order_line=line,
        quantity=quantity,
        reason_code=reason,
        received_quantity=received_quantity,
    )
    Rma.objects.filter(pk=rma.pk).update(created_at=created_at)
    return rma


@pytest.fixture
def store():
    store = StoreFactory(code="TMSUS")
    first = OrderFactory(store=store, placed_at=at(2))
    shoe = OrderLineFactory(order=first, item_id="SHOE-1", department="Shoes", quantity=4)
    hat = OrderLineFactory(order=first, item_id="HAT-1", department="Hats", quantity=2)
    second = OrderFactory(store=store, placed_at=at(3))
    other_shoe = OrderLineFactory(order=second, item_id="SHOE-2", department="Shoes", quantity=6)
    old = OrderFactory(store=store, placed_at=at(1, month=2))
    old_shoe = OrderLineFactory(order=old, item_id="SHOE-3", department="Shoes", quantity=10)
    cancelled = OrderFactory(store=store, placed_at=at(3), status="CANCELLED")
    OrderLineFactory(order=cancelled, department="Shoes", quantity=100)

    rma_on(shoe, status=RmaStatus.AUTHORIZED, quantity=2, reason="TOO_SMALL", created_at=at(4, 10))
    rma_on(
        other_shoe,
        status=RmaStatus.RESOLVED,
        quantity=3,
        received_quantity=1,
        reason="DEFECTIVE",
        created_at=at(4, 20),
    )
    rma_on(hat, status=RmaStatus.REJECTED, quantity=2, reason="CHANGED_MIND", created_at=at(5))
    rma_on(old_shoe, status=RmaStatus.REQUESTED, quantity=5, reason="TOO_SMALL", created_at=at(6))
    rma_on(old_shoe, status=RmaStatus.REQUESTED, quantity=1, reason="TOO_LARGE", created_at=at(9))
    return store


def test_dashboard_figures(agent, login, store):
    response = login(agent).get(URL, PERIOD)
    assert response.status_code == 200
    data = response.context["data"]
    per_day = dict(data.returns_per_day)
    assert len(per_day) == 7
    assert (per_day[dt.date(2026, 3, 4)], per_day[dt.date(2026, 3, 5)]) == (2, 0)
    assert per_day[dt.date(2026, 3, 6)] == 1
    assert data.total_returns == 3
    assert [(r["reason_code"], r["units"], r["returns"]) for r in data.top_reasons] == [
        ("TOO_SMALL", 7, 2),
        ("DEFECTIVE", 1, 1),
    ]
    assert [(r["order_line__item_id"], r["units"]) for r in data.top_items] == [
        ("SHOE-3", 5),
        ("SHOE-1", 2),
        ("SHOE-2", 1),
    ]
    rates = {rate.department: rate for rate in data.departments}
    assert (rates["Shoes"].sold_units, rates["Shoes"].returned_units) == (10, 3)
    assert rates["Shoes"].rate_percent == Decimal("30.0")
    assert (rates["Hats"].sold_units, rates["Hats"].rate_percent) == (2, Decimal("0.0"))


def test_dashboard_draws_svg_charts_without_inline_script_or_style(agent, login, store):
    text = login(agent).get(URL, PERIOD).content.decode()
    assert text.count('data-testid="chart-per-day-bar"') == 7
    # The reason in words on the chart, its code kept for the data attribute.
    assert (
        'data-testid="chart-reasons-bar" data-key="TOO_SMALL" data-label="Too small" '
        'data-value="7.0"' in text
    )
    assert 'data-label="Shoes" data-value="30.0"' in text
    assert "<script>" not in text and "style=" not in text


def test_dashboard_store_filter(agent, login, store):
    other = OrderLineFactory(order__store=StoreFactory(code="OTHER"), department="Shoes")
    rma_on(other, status=RmaStatus.AUTHORIZED, quantity=1, reason="TOO_SMALL", created_at=at(4))
    client = login(agent)
    assert client.get(URL, PERIOD).context["data"].total_returns == 4
    only = client.get(URL, {**PERIOD, "store": store.pk}).context["data"]
    assert only.total_returns == 3


def test_dashboard_defaults_to_the_last_30_days(agent, login):
    response = login(agent).get(URL)
    period = response.context["period"]
    assert (period.date_to - period.date_from).days == 29


def test_an_inverted_period_is_an_error_not_a_crash(agent, login):
    response = login(agent).get(URL, {"date_from": "2026-03-07", "date_to": "2026-03-01"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_dashboard_queries_do_not_grow_with_the_data(agent, login, store):
    client = login(agent)
    client.get(URL, PERIOD)
    with CaptureQueriesContext(connection) as before:
        client.get(URL, PERIOD)
    for _ in range(20):
        line = OrderLineFactory(order__store=store, order__placed_at=at(2), department="Bags")
        rma_on(line, status=RmaStatus.AUTHORIZED, quantity=1, reason="TOO_LARGE", created_at=at(3))
    with CaptureQueriesContext(connection) as after:
        client.get(URL, PERIOD)
    assert len(after) == len(before)


def test_dashboard_needs_its_permission(warehouse, agent, login):
    assert login(warehouse).get(URL).status_code == 403
    assert (
        'data-testid="dashboard-link"'
        not in login(warehouse).get(reverse("admin:index")).content.decode()
    )
    assert (
        'data-testid="dashboard-link"' in login(agent).get(reverse("admin:index")).content.decode()
    )


def test_a_reason_code_several_stores_share_is_worded_in_the_agents_language():
    def store(code, language, description):
        reasons = [{"code": "TOO_SMALL", "description": description}]
        return StoreFactory(code=code, language=language, policy={"reasons": reasons})

    stores = [
        store("AAA", "de", "Zu klein"),
        store("BBB", "", "Too small"),
        store("CCC", "en", "Small"),
    ]
    ids = frozenset(s.pk for s in stores)
    assert reason_words(ids, language="en-gb")["TOO_SMALL"] == "Small"  # the agent's own
    assert reason_words(ids, language="de")["TOO_SMALL"] == "Zu klein"
    # No store in the agent's language: one with no language of its own before a foreign one.
    assert reason_words(ids, language="fr")["TOO_SMALL"] == "Too small"
    assert reason_words(ids - {stores[0].pk}, language="de")["TOO_SMALL"] == "Too small"

"""`manage.py load_demo`: idempotent, and its orders really show every eligibility code."""

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from payments.models import StoreCredit
from rma.admin.dashboard import Period, dashboard_data
from rma.demo import DEMO_NOTES, demo_document
from rma.demo.history import HISTORY_DAYS, RETURNS
from rma.eligibility import RULES, evaluate_order
from rma.models import Order, OrderLine, Rma, RmaEvent, RmaLine, RmaStatus, Store, Supplier
from rma.policy import StorePolicy
from rma.portal.branding import brand_context
from rma.selectors import RELEASED_STATUSES, order_for_eligibility
from rma.services.rma_status import TIMESTAMP_FOR_STATUS
from rma.transitions import EVENT_FOR_STATUS, is_allowed
from tests.factories import RmaFactory, RmaLineFactory

pytestmark = pytest.mark.django_db

STATIC = Path(settings.BASE_DIR) / "static"

# Failing codes per line number of each demo order, right after loading.
EXPECTED = {
    ("TMSUS", "3000179302"): {1: (), 2: (), 3: ()},
    ("TMSUS", "3000179310"): {1: ("RMA 1006",), 2: ()},
    ("TMSUS", "3000179320"): {1: ()},
    ("TMSUS", "3000179330"): {1: ("RMA 1008",)},
    ("TMSUS", "3000179340"): {1: ("RMA 1015",)},
    ("TMSUS", "3000179350"): {1: ("RMA 1016",), 2: ()},
    ("TMSUS", "3000179360"): {1: ("RMA 1017",)},
    ("TMSUS", "3000179370"): {1: ("RMA 1019",), 2: ("RMA 1019",), 3: ()},
    ("TMSUS", "3000179380"): {1: ("RMA 1020",), 2: ("RMA 1019", "RMA 1020"), 3: ()},
    ("TMSUS", "3000179390"): {1: ("RMA 1024",), 2: ()},
    ("TMSDE", "DE-100234"): {1: (), 2: (), 3: ("RMA 1020",)},
    ("TMSDE", "DE-100250"): {1: ("RMA 1006",)},
}


def load() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def codes_of(store_code: str, order_id: str) -> dict[int, tuple[str, ...]]:
    order = order_for_eligibility(store=Store.objects.get(code=store_code), order_id=order_id)
    return {
        verdict.line_number: verdict.codes for verdict in evaluate_order(order, now=timezone.now())
    }


@pytest.mark.parametrize(("key", "expected"), EXPECTED.items(), ids=[k[1] for k in EXPECTED])
def test_each_demo_order_shows_its_codes(key, expected):
    load()

    assert codes_of(*key) == expected


def test_the_expectations_cover_every_demo_order_and_note():
    orders = demo_document()["orders"]

    assert {(order["store"], order["order_id"]) for order in orders} == set(EXPECTED)
    assert set(DEMO_NOTES) == {order_id for _, order_id in EXPECTED}


def test_every_eligibility_code_is_shown_somewhere():
    shown = {code for lines in EXPECTED.values() for codes in lines.values() for code in codes}

    # 1007 needs an RMA: see the next test.
    assert shown | {"RMA 1007"} == set(RULES)


def test_returning_the_single_unit_order_shows_1007():
    load()
    line = OrderLine.objects.get(order__order_id="3000179320")
    assert line.quantity == 1
    rma = RmaFactory(order=line.order, status=RmaStatus.AUTHORIZED)
    RmaLineFactory(rma=rma, order_line=line, quantity=1)

    assert codes_of("TMSUS", "3000179320") == {1: ("RMA 1007",)}


def test_the_demo_has_a_dropship_line_and_reasons_needing_review_and_photos():
    load()

    line = OrderLine.objects.get(order__order_id="3000179302", line_number=3)
    assert line.supplier == Supplier.objects.get(store__code="TMSUS", code="ACME")
    reasons = StorePolicy.of(Store.objects.get(code="TMSUS")).reasons
    assert any(reason.requires_review for reason in reasons)
    assert any(reason.requires_photo for reason in reasons)
    assert StorePolicy.of(Store.objects.get(code="TMSDE")).return_window_days == 14


def test_running_twice_creates_nothing_more():
    first = load()
    models = (Store, Supplier, Order, OrderLine, Rma, RmaLine, RmaEvent, StoreCredit)
    counts = [model.objects.count() for model in models]

    second = load()

    assert "orders: 12 created" in first
    assert "orders: 0 created" in second
    assert f"History: {len(RETURNS)} returns in every status" in second
    assert [model.objects.count() for model in models] == counts
    demo_orders = [order_id for _, order_id in EXPECTED]
    assert not Rma.objects.filter(order__order_id__in=demo_orders).exists()


def test_running_again_brings_the_history_up_to_now():
    load()
    Rma.objects.update(created_at=F("created_at") - dt.timedelta(days=100))
    RmaEvent.objects.update(created_at=F("created_at") - dt.timedelta(days=100))

    load()

    oldest = Rma.objects.order_by("created_at").first().created_at
    assert timezone.now() - oldest < dt.timedelta(days=HISTORY_DAYS)
    assert timezone.now() - RmaEvent.objects.order_by("created_at")[0].created_at < (
        dt.timedelta(days=HISTORY_DAYS)
    )


def test_the_history_has_every_status_spread_over_the_weeks():
    load()
    now = timezone.now()
    rmas = list(Rma.objects.all())

    assert {rma.status for rma in rmas} == set(RmaStatus.values)
    assert {rma.store.code for rma in rmas} == {"TMSUS", "TMSDE"}
    ages = [(now - rma.created_at).days for rma in rmas]
    assert min(ages) == 0 and max(ages) >= 35
    assert len(set(ages)) >= 20, "returns on many different days"
    assert all(rma.created_at < now for rma in rmas)
    # Orders nobody returned, too: the return rates are not 100 %.
    assert Order.objects.filter(rmas__isnull=True).count() > 2 * len(rmas)


def test_each_timeline_follows_the_lifecycle_to_its_status():
    load()
    for rma in Rma.objects.prefetch_related("events"):
        events = list(rma.events.all())
        assert events[0].type == "rma.created"
        assert events[0].created_at == rma.created_at
        moves = [event for event in events if event.type != "rma.created"]
        status = RmaStatus.REQUESTED
        for event in moves:
            if event.data["from"] is None:  # authorized as it was requested
                assert event.data == {"from": None, "to": "AUTHORIZED", "automatic": True}
            else:
                assert event.data["from"] == status
                assert is_allowed(status, event.data["to"])
            status = event.data["to"]
            assert event.type == EVENT_FOR_STATUS[status]
            stamp = TIMESTAMP_FOR_STATUS.get(status)
            if stamp:
                assert getattr(rma, stamp) == event.created_at, (rma.rma_number, status)
        assert status == rma.status, rma.rma_number
        moments = [event.created_at for event in events]
        assert moments == sorted(moments)
        assert rma.updated_at == moments[-1]
        if rma.authorized_at:
            assert rma.expires_at > rma.authorized_at


def test_resolved_returns_carry_their_amounts():
    load()
    resolved = RmaLine.objects.filter(rma__status=RmaStatus.RESOLVED).select_related(
        "rma__store", "order_line"
    )
    assert {line.outcome for line in resolved} == {"REFUND", "STORE_CREDIT", "EXCHANGE"}
    for line in resolved:
        assert line.received_quantity >= 1
        paid = line.order_line.unit_price * line.received_quantity
        if line.outcome == "REFUND":
            assert line.refund_amount == paid  # the demo stores keep no restocking fee
        if line.outcome == "STORE_CREDIT":
            assert line.store_credit_amount == paid
            credit = StoreCredit.objects.get(code=line.store_credit_code)
            assert credit.rma_id == line.rma_id
        if line.outcome == "EXCHANGE":
            assert line.replacement_item_id
    for rma in Rma.objects.filter(status=RmaStatus.RESOLVED):
        event = rma.events.get(type="rma.resolved")
        refunds = sum(line.refund_amount or 0 for line in rma.lines.all())
        assert Decimal(event.data["refund_total"]) == refunds
        assert event.data["currency"] == rma.store.currency
    # A short receipt, and a line received in two conditions.
    assert RmaLine.objects.filter(received_quantity__lt=F("quantity")).exists()
    split = [
        line for line in RmaLine.objects.exclude(receipt_units=[]) if len(line.receipt_units) > 1
    ]
    assert split
    for line in RmaLine.objects.filter(received_quantity__gt=0):
        assert sum(group["quantity"] for group in line.receipt_units) == line.received_quantity


def test_the_dashboard_shows_the_history():
    load()
    today = timezone.localdate()
    period = Period(today - dt.timedelta(days=HISTORY_DAYS), today, timezone.get_current_timezone())

    data = dashboard_data(period=period)

    # Rejected, cancelled and expired returns are not counted as returns.
    assert data.total_returns == Rma.objects.exclude(status__in=RELEASED_STATUSES).count()
    assert len([day for day, count in data.returns_per_day if count]) >= 20
    assert {money.currency for money in data.money} == {"USD", "EUR"}
    assert all(money.resolved_value > 0 for money in data.money)
    assert data.time_to_refund.count > 0
    assert data.time_to_refund.median_hours < data.time_to_refund.p90_hours
    assert all(rate.rate_percent < 100 for rate in data.departments)
    assert len([rate for rate in data.departments if rate.returned_units]) >= 6


def test_the_stores_have_local_logos_shown_by_the_portal():
    load()
    for store in Store.objects.all():
        assert store.logo_url.startswith(settings.STATIC_URL)
        path = STATIC / store.logo_url.removeprefix(settings.STATIC_URL)
        assert path.is_file() and path.read_text().startswith("<svg")
        assert brand_context(store)["logo_url"] == store.logo_url


def test_prints_how_to_look_each_order_up():
    out = load()

    assert re.search(r"\nTMSUS +3000179340 +margaret@example\.com +M5V 3L9 +RMA 1015", out)
    for order_id, note in DEMO_NOTES.items():
        assert order_id in out
        assert note in out

"""`manage.py load_demo`: idempotent, and its orders really show every eligibility code."""

import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from rma.demo import DEMO_NOTES, demo_document
from rma.eligibility import RULES, evaluate_order
from rma.models import Order, OrderLine, Rma, RmaStatus, Store, Supplier
from rma.policy import StorePolicy
from rma.selectors import order_for_eligibility
from tests.factories import RmaFactory, RmaLineFactory

pytestmark = pytest.mark.django_db

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


def test_running_twice_creates_nothing_more_and_no_rmas():
    first = load()
    counts = [model.objects.count() for model in (Store, Supplier, Order, OrderLine)]

    second = load()

    assert "orders: 11 created" in first
    assert "orders: 0 created" in second
    assert [model.objects.count() for model in (Store, Supplier, Order, OrderLine)] == counts
    assert not Rma.objects.exists()


def test_prints_how_to_look_each_order_up():
    out = load()

    assert re.search(r"\nTMSUS +3000179340 +margaret@example\.com +M5V 3L9 +RMA 1015", out)
    for order_id, note in DEMO_NOTES.items():
        assert order_id in out
        assert note in out

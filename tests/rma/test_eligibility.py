"""Eligibility (docs/eligibility.md): every code, every boundary, overrides; pure functions."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from rma.eligibility import RULES, can_override, evaluate_line, last_return_moment
from rma.policy import StorePolicy

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
DELIVERED = dt.datetime(2026, 11, 5, 15, 30, tzinfo=UTC)


def make_order(**changes):
    values = {
        "status": "DELIVERED",
        "placed_at": dt.datetime(2026, 11, 1, 10, tzinfo=UTC),
        "shipped_at": dt.datetime(2026, 11, 2, 10, tzinfo=UTC),
        "delivered_at": DELIVERED,
        "shipping_address": {"state": "PA", "country": "US", "postal_code": "19103"},
    }
    return SimpleNamespace(**{**values, **changes})


def make_line(**changes):
    values = {
        "line_number": 1,
        "item_id": "21-RITOCS004b",
        "department": "Accessories",
        "quantity": 2,
        "unit_price": Decimal("39.99"),
        "hazmat": False,
        "final_sale": False,
        "delivered_at": None,
    }
    return SimpleNamespace(**{**values, **changes})


POLICY = StorePolicy(
    {
        "excluded_departments": ["Gift Cards"],
        "excluded_items": ["GC-50"],
        "excluded_states": ["HI", "AK"],
        "allowed_countries": ["US"],
    }
)
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=UTC)


def codes(*, order=None, line=None, policy=POLICY, held=0, overrides=(), now=NOW):
    verdict = evaluate_line(
        order=order or make_order(),
        line=line or make_line(),
        policy=policy,
        timezone="America/New_York",
        held_quantity=held,
        overrides=overrides,
        now=now,
    )
    return list(verdict.codes)


def test_an_ordinary_delivered_line_is_eligible():
    assert codes() == []


@pytest.mark.parametrize(
    ("order_changes", "line_changes", "expected"),
    [
        ({"status": "PROCESSING"}, {}, ["RMA 1008"]),
        ({"status": "CANCELLED"}, {}, ["RMA 1008"]),
        ({"status": "SHIPPED", "delivered_at": None}, {}, []),
        ({"shipping_address": {"state": "PA", "country": "CA"}}, {}, ["RMA 1015"]),
        ({"shipping_address": {"state": "PA", "country": "us"}}, {}, []),
        ({}, {"hazmat": True}, ["RMA 1016"]),
        ({"shipping_address": {"state": "HI", "country": "US"}}, {}, ["RMA 1017"]),
        ({"shipping_address": {"state": " ak ", "country": "US"}}, {}, ["RMA 1017"]),
        ({}, {"final_sale": True}, ["RMA 1019"]),
        ({}, {"item_id": "GC-50"}, ["RMA 1019"]),
        ({}, {"department": "Gift Cards"}, ["RMA 1020"]),
        ({}, {"department": "gift cards"}, ["RMA 1020"]),
    ],
)
def test_each_rule_reports_its_code(order_changes, line_changes, expected):
    assert codes(order=make_order(**order_changes), line=make_line(**line_changes)) == expected


def test_every_failing_rule_is_reported_not_only_the_first():
    order = make_order(status="PLACED", shipping_address={"state": "HI", "country": "CA"})
    line = make_line(hazmat=True, final_sale=True, department="Gift Cards")
    assert codes(order=order, line=line, held=2, now=NOW + dt.timedelta(days=60)) == [
        "RMA 1006",
        "RMA 1007",
        "RMA 1008",
        "RMA 1015",
        "RMA 1016",
        "RMA 1017",
        "RMA 1019",
        "RMA 1020",
    ]


def test_return_window_ends_at_the_end_of_the_day_in_the_store_timezone():
    last = last_return_moment(
        order=make_order(), line=make_line(), policy=POLICY, timezone="America/New_York"
    )
    assert last == dt.datetime(2026, 12, 5, 23, 59, 59, 999999, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (dt.datetime(2026, 12, 5, 23, 59, 59, 999000, tzinfo=NEW_YORK), []),
        (dt.datetime(2026, 12, 6, 0, 0, 0, tzinfo=NEW_YORK), ["RMA 1006"]),
        # 04:59 UTC on 6 December is still 5 December in New York.
        (dt.datetime(2026, 12, 6, 4, 59, tzinfo=UTC), []),
        (dt.datetime(2026, 12, 6, 5, 0, tzinfo=UTC), ["RMA 1006"]),
    ],
)
def test_return_window_boundary(now, expected):
    assert codes(now=now) == expected


def test_reference_date_uses_the_store_timezone_date():
    # 02:00 UTC on 6 Nov is still 5 Nov in New York: the window counts from 5 Nov.
    order = make_order(delivered_at=dt.datetime(2026, 11, 6, 2, 0, tzinfo=UTC))
    assert codes(order=order, now=dt.datetime(2026, 12, 6, 0, 0, 1, tzinfo=NEW_YORK)) == [
        "RMA 1006"
    ]


@pytest.mark.parametrize(
    ("order_changes", "line_changes", "reference"),
    [
        ({}, {"delivered_at": dt.datetime(2026, 11, 10, 12, tzinfo=UTC)}, dt.date(2026, 11, 10)),
        ({}, {}, dt.date(2026, 11, 5)),
        ({"delivered_at": None}, {}, dt.date(2026, 11, 2)),
        ({"delivered_at": None, "shipped_at": None}, {}, dt.date(2026, 11, 1)),
    ],
)
def test_reference_date_falls_back_line_order_shipped_placed(
    order_changes, line_changes, reference
):
    last = last_return_moment(
        order=make_order(**order_changes),
        line=make_line(**line_changes),
        policy=POLICY,
        timezone="America/New_York",
    )
    assert last.date() == reference + dt.timedelta(days=30)


def test_window_length_comes_from_the_policy():
    policy = StorePolicy({"return_window_days": 10})
    assert codes(policy=policy) == ["RMA 1006"]


@pytest.mark.parametrize(
    ("held", "returnable", "expected"), [(0, 2, []), (1, 1, []), (2, 0, ["RMA 1007"])]
)
def test_returnable_quantity_is_ordered_minus_held(held, returnable, expected):
    verdict = evaluate_line(
        order=make_order(),
        line=make_line(),
        policy=POLICY,
        timezone="UTC",
        held_quantity=held,
        overrides=(),
        now=NOW,
    )
    assert verdict.returnable_quantity == returnable
    assert list(verdict.codes) == expected


def test_hazmat_is_returnable_when_the_policy_allows_it():
    assert codes(line=make_line(hazmat=True), policy=StorePolicy({"hazmat_returnable": True})) == []


def test_empty_allowed_countries_means_any_country():
    order = make_order(shipping_address={"state": "", "country": "FR"})
    assert codes(order=order, policy=StorePolicy({})) == []


def override(code, expires_at=None):
    return SimpleNamespace(code=code, expires_at=expires_at)


@pytest.mark.parametrize(
    "code", ["RMA 1006", "RMA 1015", "RMA 1016", "RMA 1017", "RMA 1019", "RMA 1020"]
)
def test_an_unexpired_override_removes_an_overridable_code(code):
    order = make_order(status="DELIVERED", shipping_address={"state": "HI", "country": "CA"})
    line = make_line(hazmat=True, final_sale=True, department="Gift Cards")
    late = NOW + dt.timedelta(days=60)
    before = codes(order=order, line=line, now=late)
    after = codes(order=order, line=line, now=late, overrides=[override(code)])
    assert code in before
    assert after == [c for c in before if c != code]


def test_an_expired_override_no_longer_counts():
    late = NOW + dt.timedelta(days=60)
    expired = override("RMA 1006", expires_at=late - dt.timedelta(seconds=1))
    current = override("RMA 1006", expires_at=late + dt.timedelta(days=1))
    assert codes(now=late, overrides=[expired]) == ["RMA 1006"]
    assert codes(now=late, overrides=[current]) == []


@pytest.mark.parametrize("code", ["RMA 1007", "RMA 1008"])
def test_1007_and_1008_can_never_be_overridden(code):
    order = make_order(status="PROCESSING")
    assert code in codes(order=order, held=2, overrides=[override(code)])


class FakeUser:
    def __init__(self, *perms):
        self.perms = set(perms)

    def has_perm(self, perm):
        return perm in self.perms


@pytest.mark.parametrize(
    ("perms", "code", "allowed"),
    [
        ((), "RMA 1006", False),
        (("rma.override_ineligibility",), "RMA 1006", True),
        (("rma.override_ineligibility",), "RMA 1016", False),
        (("rma.override_any_ineligibility",), "RMA 1006", True),
        *[
            (("rma.override_any_ineligibility",), code, True)
            for code in ("RMA 1015", "RMA 1016", "RMA 1017", "RMA 1019", "RMA 1020", "RMA 1024")
        ],
        (("rma.override_ineligibility",), "RMA 1024", False),
        (("rma.override_any_ineligibility", "rma.override_ineligibility"), "RMA 1007", False),
        (("rma.override_any_ineligibility", "rma.override_ineligibility"), "RMA 1008", False),
    ],
)
def test_who_may_override_what(perms, code, allowed):
    assert can_override(FakeUser(*perms), code) is allowed


def test_descriptions_are_exactly_the_spec_texts():
    assert {code: rule.description for code, rule in RULES.items()} == {
        "RMA 1006": "Return Request is out of Return Window",
        "RMA 1007": "Requested return quantity allowed limit",
        "RMA 1008": "Current Order Status is not valid for Returns",
        "RMA 1015": "Not a valid county for Returns",
        "RMA 1016": "Hazmat Item(s) not allowed for returns",
        "RMA 1017": "Customer State excluded for returns",
        "RMA 1019": "Item excluded for returns",
        "RMA 1020": "Item department excluded from returns",
        "RMA 1024": "Return blocked by store rule",
    }

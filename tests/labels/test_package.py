"""Package calculation and checks: pure functions, no database."""

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest

from labels.package import Package, decimal_text, package_for_lines, package_for_rma, package_info
from rma.policy import StorePolicy
from rma.selectors import rmas_with_lines
from tests.labels.conftest import add_line

D = Decimal
US_ADDRESS = {"line1": "12 Elm St", "city": "Philadelphia", "state": "PA", "country": "US"}


def line(**fields):
    """An order line as the package reads it; defaults: 1 lb, 10x8x2 in, 20.00, not hazmat."""
    defaults = {
        "weight": D("1"),
        "length": D("10"),
        "width": D("8"),
        "height": D("2"),
        "unit_price": D("20.00"),
        "hazmat": False,
        "final_sale": False,
        "item_id": "SKU-1",
        "department": "Accessories",
    }
    return SimpleNamespace(**{**defaults, **fields})


def order(**address):
    return SimpleNamespace(status="DELIVERED", shipping_address={**US_ADDRESS, **address})


def package(lines, policy=None, the_order=None) -> Package:
    return package_for_lines(
        lines,
        policy=StorePolicy(policy or {}),
        order=the_order or order(),
        currency="USD",
    )


def test_sums_weight_invoice_and_stacks_heights():
    result = package(
        [
            (
                line(
                    weight=D("1.2"), unit_price=D("39.99"), length=D(16), width=D(12), height=D(2)
                ),
                2,
            ),
            (
                line(
                    weight=D("0.5"), unit_price=D("10.00"), length=D(10), width=D(20), height=D(5)
                ),
                1,
            ),
        ]
    )
    assert result.weight == D("2.9")
    assert result.invoice_amount == D("89.98")
    # Largest side of any line; largest second side; smallest sides stacked per unit.
    assert (result.length, result.width, result.height) == (D(20), D(12), D(9))
    # 20 x 12 x 9 / 139 = 15.539...
    assert result.dimensional_weight == D("15.54")
    assert result.failures == ()
    assert result.eligible


@pytest.mark.parametrize(
    "sides",
    [(16, 12, 2), (2, 16, 12), (12, 2, 16), (2, 12, 16)],
    ids=["LWH", "HLW", "WHL", "HWL"],
)
def test_sides_are_sorted_whatever_the_order_they_are_given_in(sides):
    length, width, height = (D(side) for side in sides)
    result = package([(line(length=length, width=width, height=height), 3)])
    assert (result.length, result.width, result.height) == (D(16), D(12), D(6))


def test_width_is_the_largest_second_side_not_the_second_side_of_the_longest_line():
    result = package(
        [
            (line(length=D(30), width=D(4), height=D(1)), 1),
            (line(length=D(10), width=D(9), height=D(3)), 1),
        ]
    )
    assert (result.length, result.width, result.height) == (D(30), D(9), D(4))


@pytest.mark.parametrize(
    ("length", "divisor", "expected"),
    [
        # 100.5 / 100 = 1.005 exactly: half up gives 1.01 (banker's rounding would give 1.00).
        (D("100.5"), 100, D("1.01")),
        (D("100.499"), 100, D("1.00")),
        (D("101.5"), 100, D("1.02")),
        (D("100.4"), 100, D("1.00")),
        (D("139"), 139, D("1.00")),
        (D("0"), 139, D("0.00")),
    ],
)
def test_dimensional_weight_rounds_half_up_to_two_decimals(length, divisor, expected):
    result = package(
        [(line(length=length, width=D(1), height=D(1)), 1)], policy={"dim_divisor": divisor}
    )
    assert result.dimensional_weight == expected
    assert result.dimensional_weight.as_tuple().exponent == -2


def test_units_and_currency_come_from_the_policy_and_store():
    result = package_for_lines(
        [(line(), 1)],
        policy=StorePolicy({"weight_unit": "kg", "dimension_unit": "cm", "dim_divisor": 5000}),
        order=order(),
        currency="EUR",
    )
    assert (result.weight_unit, result.dimension_unit, result.currency) == ("kg", "cm", "EUR")
    # 10 x 8 x 2 / 5000 = 0.032
    assert result.dimensional_weight == D("0.03")


POLICY = {
    "max_weight": "50",
    "max_dimension": "48",
    "max_dimensional_weight": "70",
    "min_invoice_amount": "0.01",
    "max_invoice_amount": "5000.00",
    "excluded_states": ["HI", "AK"],
    "allowed_countries": ["US"],
}


@pytest.mark.parametrize(
    ("line_fields", "quantity", "address", "code"),
    [
        ({"weight": D("0")}, 1, {}, "RMA 1011"),
        ({"weight": D("25.001")}, 2, {}, "RMA 1012"),
        ({"length": D("48.001")}, 1, {}, "RMA 1013"),
        # 40 x 40 x 7 / 139 = 80.58
        ({"length": D(40), "width": D(40), "height": D(7)}, 1, {}, "RMA 1014"),
        ({"unit_price": D("2500.01")}, 2, {}, "RMA 1010"),
        ({"unit_price": D("0.00")}, 1, {}, "RMA 1018"),
        ({"hazmat": True}, 1, {}, "RMA 1016"),
        ({}, 1, {"state": "hi"}, "RMA 1017"),
        ({}, 1, {"country": "CA"}, "RMA 1015"),
    ],
)
def test_each_check_alone(line_fields, quantity, address, code):
    result = package([(line(**line_fields), quantity)], POLICY, order(**address))
    assert result.failures == (code,)
    assert not result.eligible


@pytest.mark.parametrize(
    ("line_fields", "quantity"),
    [
        ({"weight": D("25")}, 2),  # weight exactly max_weight
        ({"length": D("48")}, 1),  # length exactly max_dimension
        # 139 x 10 x 7 / 139 = 70.00: dimensional weight exactly the maximum
        ({"length": D(139), "width": D(10), "height": D(7)}, 1),
        ({"unit_price": D("2500.00")}, 2),  # invoice exactly the maximum
        ({"unit_price": D("0.01")}, 1),  # invoice exactly the minimum
        ({"weight": D("0.001")}, 1),  # the least weight above zero
    ],
)
def test_limits_themselves_pass(line_fields, quantity):
    policy = {**POLICY, "max_dimension": "200"} if line_fields.get("length") == 139 else POLICY
    assert package([(line(**line_fields), quantity)], policy).failures == ()


def test_every_failing_code_is_listed_in_code_order():
    result = package(
        [
            (line(weight=D(0), unit_price=D(0), hazmat=True, length=D(60)), 1),
            (line(weight=D(0), unit_price=D(0)), 1),
        ],
        POLICY,
        order(state="AK", country="CA"),
    )
    assert result.failures == (
        "RMA 1011",
        "RMA 1013",
        "RMA 1015",
        "RMA 1016",
        "RMA 1017",
        "RMA 1018",
    )


def test_heavy_large_and_expensive_together():
    result = package(
        [(line(weight=D(30), length=D(50), width=D(40), height=D(10), unit_price=D(3000)), 2)],
        POLICY,
    )
    assert result.failures == ("RMA 1010", "RMA 1012", "RMA 1013", "RMA 1014")


def test_hazmat_passes_when_the_policy_accepts_it():
    assert package([(line(hazmat=True), 1)], {"hazmat_returnable": True}).failures == ()


def test_order_status_and_line_exclusions_are_not_package_checks():
    # 1008, 1019 and 1020 stop a request, not a label: they are not repeated here.
    closed = SimpleNamespace(status="CLOSED", shipping_address=US_ADDRESS)
    result = package(
        [(line(final_sale=True, item_id="GC-50", department="Gift Cards"), 1)],
        {"excluded_items": ["GC-50"], "excluded_departments": ["Gift Cards"]},
        closed,
    )
    assert result.failures == ()


def test_no_lines_is_a_package_of_nothing():
    result = package([])
    assert result.failures == ("RMA 1011", "RMA 1018")
    assert (result.weight, result.length, result.dimensional_weight) == (0, 0, D("0.00"))


def test_package_info_is_the_spec_object_with_decimals_as_strings():
    result = package(
        [(line(weight=D("1.200"), length=D("16.000"), width=D("12.000"), height=D("2.000")), 2)],
        {**POLICY, "excluded_states": ["PA"]},
    )
    info = package_info(result)
    assert info == {
        "weight": "2.4",
        "weightUnit": "lb",
        "length": "16",
        "width": "12",
        "height": "4",
        "dimensionUnit": "in",
        "dimensionalWeight": "5.53",
        "invoiceAmount": "40.00",
        "currency": "USD",
        "eligible": False,
        "ineligibility": [
            {"code": "RMA 1017", "description": "Customer State excluded for returns"}
        ],
    }
    assert json.loads(json.dumps(info)) == info


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("2.400"), "2.4"),
        (D("16.000"), "16"),
        (D("100"), "100"),
        (D("1E+2"), "100"),
        (D("0.000"), "0"),
        (D("0.125"), "0.125"),
    ],
)
def test_decimal_text(value, text):
    assert decimal_text(value) == text


@pytest.mark.django_db
def test_package_for_rma_reads_only_what_was_prefetched(rma, django_assert_num_queries):
    add_line(rma, quantity=2, weight=D("0.5"), length=D(20), width=D(3), height=D(1))
    fetched = rmas_with_lines().get(pk=rma.pk)
    with django_assert_num_queries(0):
        result = package_for_rma(fetched)
    # The fixture's line: 1 x (1.2 lb, 16x12x2 in, 39.99);
    # the added one: 2 x (0.5 lb, 20x3x1 in, 39.99).
    assert result.weight == D("2.2")
    assert (result.length, result.width, result.height) == (D(20), D(12), D(4))
    assert result.invoice_amount == D("119.97")
    assert result.currency == fetched.store.currency

"""Currency minor units, rounding, display, and the amount paid per unit."""

from decimal import Decimal

import pytest
from babel.numbers import format_currency
from hypothesis import given
from hypothesis import strategies as st

from payments import money


@pytest.mark.parametrize(
    ("currency", "places", "unit"),
    [
        ("JPY", 0, "1"),
        ("USD", 2, "0.01"),
        ("EUR", 2, "0.01"),
        ("KWD", 3, "0.001"),
        ("usd", 2, "0.01"),
    ],
)
def test_minor_units_come_from_babel(currency, places, unit):
    assert money.minor_units(currency) == places
    assert money.minor_unit(currency) == Decimal(unit)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "USD", "0.13"),  # half up, not half even
        ("0.135", "USD", "0.14"),
        ("2.5", "JPY", "3"),
        ("3.5", "JPY", "4"),
        ("1.0005", "KWD", "1.001"),
        ("-0.125", "USD", "-0.13"),
    ],
)
def test_quantize_rounds_half_up_to_the_minor_unit(amount, currency, expected):
    result = money.quantize(Decimal(amount), currency)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("19.35", "USD", 1935), ("500", "JPY", 500), ("1.500", "KWD", 1500), ("0.01", "USD", 1)],
)
def test_minor_unit_integers_round_trip(amount, currency, minor):
    assert money.to_minor(Decimal(amount), currency) == minor
    assert money.from_minor(minor, currency) == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("19.35", "USD", "19.35"),
        ("19.3", "USD", "19.30"),
        ("500", "JPY", "500"),
        ("1.5", "KWD", "1.500"),
    ],
)
def test_as_string_has_the_currency_decimals(amount, currency, text):
    assert money.as_string(Decimal(amount), currency) == text


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en_US", "$67.98"), ("en", "$67.98"), ("de_DE", "67,98\xa0$"), ("fr_CA", "67,98\xa0$\xa0US")],
)
def test_format_money_in_the_shoppers_language(locale, expected):
    assert money.format_money(Decimal("67.98"), "USD", locale) == expected


def test_format_money_zero_decimal_currency():
    assert money.format_money(Decimal("1234"), "JPY", "en") == "¥1,234"


@given(
    amount=st.decimals(
        min_value=-(10**10), max_value=10**10, places=3, allow_nan=False, allow_infinity=False
    ),
    currency=st.sampled_from(["USD", "eur", "JPY", "KWD", "CHF", "INR", "GBP", "XYZ"]),
    locale=st.sampled_from(["en", "en_US", "de", "de_CH", "fr_CA", "nl", "ja", "ar", "hi_IN"]),
)
def test_format_money_writes_what_babels_format_currency_writes(amount, currency, locale):
    expected = format_currency(money.quantize(amount, currency), currency.upper(), locale=locale)
    assert money.format_money(amount, currency, locale) == expected


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", 1.5, True, ""])
def test_bad_amounts_are_refused(value):
    with pytest.raises(money.MoneyError):
        money.to_decimal(value)


@pytest.mark.parametrize(
    ("value", "currency"), [("19.355", "USD"), ("1.5", "JPY"), ("0.0001", "KWD")]
)
def test_parse_amount_refuses_more_decimals_than_the_currency(value, currency):
    with pytest.raises(money.MoneyError):
        money.parse_amount(value, currency)


@pytest.mark.parametrize(
    ("price", "quantity", "discount", "tax", "currency", "units"),
    [
        ("10.00", 3, "0", "0", "USD", ["10.00", "10.00", "10.00"]),
        ("10.00", 3, "0", "0.01", "USD", ["10.00", "10.00", "10.01"]),
        ("10.00", 3, "1.00", "2.40", "USD", ["10.47", "10.47", "10.46"]),
        ("3.33", 3, "0", "0.01", "USD", ["3.33", "3.33", "3.34"]),  # 10.00 / 3 = 3.333..
        ("0.01", 5, "0", "0.02", "USD", ["0.01", "0.01", "0.01", "0.01", "0.03"]),
        # 0.03 over 5: rounding 0.006 up would leave the last unit at -0.01; rounded down.
        ("0.01", 5, "0.02", "0", "USD", ["0.00", "0.00", "0.00", "0.00", "0.03"]),
        ("1000", 3, "1", "0", "JPY", ["1000", "1000", "999"]),
        ("1000", 3, "0", "1", "JPY", ["1000", "1000", "1001"]),
        ("1.000", 3, "0", "0.001", "KWD", ["1.000", "1.000", "1.001"]),
        ("20.00", 2, "40.00", "0", "USD", ["0.00", "0.00"]),
        ("20.00", 0, "0", "0", "USD", []),
    ],
)
def test_unit_amounts_paid(price, quantity, discount, tax, currency, units):
    line = {
        "unit_price": Decimal(price),
        "quantity": quantity,
        "discount": Decimal(discount),
        "tax": Decimal(tax),
        "currency": currency,
    }
    amounts = money.unit_amounts_paid(**line)
    assert [str(amount) for amount in amounts] == units
    # The price per unit the order page shows: the first unit's, without the list.
    assert money.unit_share_paid(**line) == (amounts[0] if amounts else None)


@pytest.mark.parametrize(
    ("units", "already", "expected"),
    [(1, 0, ["10.47"]), (2, 1, ["10.47", "10.46"]), (1, 2, ["10.46"]), (0, 3, [])],
)
def test_amount_paid_for_units_considers_units_already_returned(units, already, expected):
    amounts = money.amount_paid_for_units(
        unit_price=Decimal("10.00"),
        quantity=3,
        discount=Decimal("1.00"),
        tax=Decimal("2.40"),
        currency="USD",
        units=units,
        already_returned=already,
    )
    assert [str(amount) for amount in amounts] == expected


@pytest.mark.parametrize(("units", "already"), [(4, 0), (2, 2), (-1, 0), (1, -1)])
def test_more_units_than_remain_are_refused(units, already):
    with pytest.raises(money.MoneyError):
        money.amount_paid_for_units(
            unit_price=Decimal("1.00"),
            quantity=3,
            discount=Decimal(0),
            tax=Decimal(0),
            currency="USD",
            units=units,
            already_returned=already,
        )


@given(
    cents=st.integers(min_value=0, max_value=10**8),
    quantity=st.integers(min_value=1, max_value=60),
    discount_cents=st.integers(min_value=0, max_value=10**6),
    tax_cents=st.integers(min_value=0, max_value=10**6),
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
    splits=st.lists(st.integers(min_value=1, max_value=60), max_size=5),
)
def test_returns_in_any_parts_add_up_to_what_was_paid(
    cents, quantity, discount_cents, tax_cents, currency, splits
):
    unit = money.minor_unit(currency)
    price, discount, tax = cents * unit, discount_cents * unit, tax_cents * unit
    paid = money.line_amount_paid(
        unit_price=price, quantity=quantity, discount=discount, tax=tax, currency=currency
    )
    returned, refunded = 0, []
    for size in [*splits, quantity]:
        size = min(size, quantity - returned)
        amounts = money.amount_paid_for_units(
            unit_price=price,
            quantity=quantity,
            discount=discount,
            tax=tax,
            currency=currency,
            units=size,
            already_returned=returned,
        )
        assert all(amount >= 0 and amount == money.quantize(amount, currency) for amount in amounts)
        refunded.extend(amounts)
        returned += size
    assert returned == quantity
    assert sum(refunded) == paid

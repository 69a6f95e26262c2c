"""Amounts of money: currency minor units, rounding, display, and the amount paid per unit.

Every amount is a `Decimal` quantized to its currency's minor unit (Babel's CLDR data:
JPY 0 decimals, USD 2, KWD 3), never a float. Rounding is half up, as shoppers and
accountants expect (0.125 -> 0.13), not the banker's rounding of `Decimal`'s default.
"""

from __future__ import annotations

import copy
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel import Locale
from babel.numbers import NumberPattern, get_currency_precision, get_currency_symbol


class MoneyError(ValueError):
    """An amount that cannot be used: not a number, not finite, or too precise."""


@cache
def minor_units(currency: str) -> int:
    """How many decimals the currency has (JPY 0, USD 2, KWD 3; 2 for codes Babel lacks)."""
    return get_currency_precision(currency.upper())


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency: 1, 0.01, 0.001 ..."""
    return Decimal(1).scaleb(-minor_units(currency))


def quantize(amount, currency: str) -> Decimal:
    """`amount` rounded half up to the currency's minor unit."""
    return to_decimal(amount).quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def to_decimal(value) -> Decimal:
    """A finite Decimal from a Decimal, an int or a string (floats are refused: inexact)."""
    if isinstance(value, bool | float):
        raise MoneyError(f"amounts are never floats: {value!r}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise MoneyError(f"not an amount: {value!r}") from None
    if not number.is_finite():
        raise MoneyError(f"not a finite amount: {value!r}")
    return number


def parse_amount(value, currency: str) -> Decimal:
    """An amount given by a caller (string or number): refused when finer than the minor unit.

    Raises `MoneyError`; "19.355" in USD is refused rather than silently rounded.
    """
    number = to_decimal(value)
    exact = number.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)
    if exact != number:
        raise MoneyError(f"{value} has more than {minor_units(currency)} decimal places")
    return exact


def to_minor(amount: Decimal, currency: str) -> int:
    """The amount in minor units as an integer (19.35 USD -> 1935; 500 JPY -> 500)."""
    return int(quantize(amount, currency).scaleb(minor_units(currency)))


def from_minor(minor: int, currency: str) -> Decimal:
    """The inverse of `to_minor`."""
    return Decimal(minor).scaleb(-minor_units(currency)).quantize(minor_unit(currency))


def zero(currency: str) -> Decimal:
    return Decimal(0).quantize(minor_unit(currency))


def as_string(amount: Decimal, currency: str) -> str:
    """A plain decimal string with exactly the currency's decimals ("19.35", "500", "1.500")."""
    return format(quantize(amount, currency), "f")


@cache
def _currency_format(locale: str, currency: str) -> tuple[Locale, NumberPattern, str | None]:
    """The locale, its standard currency pattern, and the currency to pass Babel: the
    pattern with the currency's symbol (and code) and decimals written in, and None, when
    the pattern has no currency name (which depends on the amount)."""
    parsed = Locale.parse(locale)
    pattern = parsed.currency_formats["standard"]
    if "¤¤¤" in "".join(pattern.prefix + pattern.suffix):
        return parsed, pattern, currency
    filled = copy.copy(pattern)
    symbol = get_currency_symbol(currency, parsed)
    filled.prefix, filled.suffix = (
        tuple(part.replace("¤¤", currency).replace("¤", symbol) for part in affix)
        for affix in (pattern.prefix, pattern.suffix)
    )
    filled.frac_prec = (get_currency_precision(currency),) * 2
    return parsed, filled, None


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """The amount as a shopper reads it in `locale` (`$67.98` in en, `67,98 $` in de).

    What Babel's `format_currency` writes, with the locale's pattern and the currency's
    symbol and decimals looked up once per process: Babel looks them up on every call,
    and the currency's plural name too whether the pattern shows it or not (half its
    time; the order page formats a price a line).
    """
    code = currency.upper()
    parsed, pattern, babel_currency = _currency_format(locale, code)
    return pattern.apply(
        quantize(amount, currency),
        parsed,
        currency=babel_currency,
        currency_digits=True,
        decimal_quantization=True,
        group_separator=True,
        numbering_system="latn",
    )


def percent_of(amount: Decimal, percent: Decimal, currency: str) -> Decimal:
    """`percent` % of `amount`, rounded half up to the minor unit."""
    return quantize(to_decimal(amount) * to_decimal(percent) / 100, currency)


def line_amount_paid(
    *, unit_price: Decimal, quantity: int, discount: Decimal, tax: Decimal, currency: str
) -> Decimal:
    """What the shopper paid for the whole order line: unit price * quantity - discount + tax.

    Never below zero (a discount larger than the line is the import's problem, refused
    there; here it only cannot make a refund negative).
    """
    total = to_decimal(unit_price) * quantity - to_decimal(discount) + to_decimal(tax)
    return max(quantize(total, currency), zero(currency))


def unit_amounts_paid(
    *, unit_price: Decimal, quantity: int, discount: Decimal, tax: Decimal, currency: str
) -> list[Decimal]:
    """What each unit of an order line cost, in order; they add up exactly to the line paid.

    Every unit costs the line's amount paid ÷ quantity rounded half up to the minor unit,
    and the last unit carries the rounding remainder (10.00 for 3 units: 3.33, 3.33,
    3.34). When rounding up would leave the last unit below zero (a few cents spread over
    many units), the share is rounded down instead, so no unit is ever negative.
    """
    if quantity < 1:
        return []
    total = line_amount_paid(
        unit_price=unit_price, quantity=quantity, discount=discount, tax=tax, currency=currency
    )
    share = _unit_share(total, quantity, currency)
    return [share] * (quantity - 1) + [total - share * (quantity - 1)]


def unit_share_paid(
    *, unit_price: Decimal, quantity: int, discount: Decimal, tax: Decimal, currency: str
) -> Decimal | None:
    """The first of `unit_amounts_paid` (every unit's but the remainder's), without a list
    as long as the quantity: the price per unit a shopper reads. None without units."""
    if quantity < 1:
        return None
    total = line_amount_paid(
        unit_price=unit_price, quantity=quantity, discount=discount, tax=tax, currency=currency
    )
    return _unit_share(total, quantity, currency)


def _unit_share(total: Decimal, quantity: int, currency: str) -> Decimal:
    step = minor_unit(currency)
    share = (total / quantity).quantize(step, rounding=ROUND_HALF_UP)
    if share * (quantity - 1) > total:
        share = (total / quantity).quantize(step, rounding=ROUND_DOWN)
    return share


def amount_paid_for_units(
    *,
    unit_price: Decimal,
    quantity: int,
    discount: Decimal,
    tax: Decimal,
    currency: str,
    units: int,
    already_returned: int = 0,
) -> list[Decimal]:
    """The amounts paid for the next `units` units of a line of which `already_returned`
    units were returned (refunded) before.

    Returns take the units in order, so the unit carrying the rounding remainder is the
    last one returned and a line returned in several parts refunds exactly the line's
    amount paid in total. Raises `MoneyError` when more units are asked than remain.
    """
    if units < 0 or already_returned < 0 or already_returned + units > quantity:
        raise MoneyError(
            f"cannot return {units} unit(s) after {already_returned} of a line of {quantity}"
        )
    amounts = unit_amounts_paid(
        unit_price=unit_price, quantity=quantity, discount=discount, tax=tax, currency=currency
    )
    return amounts[already_returned : already_returned + units]


def order_line_amounts(line, *, currency: str, units: int, already_returned: int = 0):
    """`amount_paid_for_units` for an `OrderLine` row (its fields read, no query)."""
    return amount_paid_for_units(
        unit_price=line.unit_price,
        quantity=line.quantity,
        discount=line.discount,
        tax=line.tax,
        currency=currency,
        units=units,
        already_returned=already_returned,
    )

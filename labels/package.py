"""The package of one RMA (docs/api.md, `packageInfo`) as pure functions: rows in, package out.

Nothing here queries the database. `package_for_rma` reads an RMA fetched with its
store, order and lines (`rma.selectors.rmas_with_lines()`); `package_for_lines` takes
the (order line, quantity) pairs directly.

All amounts and measures are `Decimal`, in the store policy's units and currency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from rma.eligibility import line_level_codes, order_level_codes
from rma.errors import DESCRIPTIONS
from rma.policy import StorePolicy

CENT = Decimal("0.01")
ZERO = Decimal(0)

# The order-level eligibility codes that also stop a label.
ORDER_CODES_FOR_PACKAGE = frozenset({"RMA 1015", "RMA 1017"})
HAZMAT_CODE = "RMA 1016"
# Any fixed moment: the hazmat rule does not depend on the return window.
_ANY_MOMENT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Package:
    weight: Decimal
    weight_unit: str
    length: Decimal
    width: Decimal
    height: Decimal
    dimension_unit: str
    dimensional_weight: Decimal
    invoice_amount: Decimal
    currency: str
    # Every failing code ("RMA 1011", ...), in code order.
    failures: tuple[str, ...] = ()

    @property
    def eligible(self) -> bool:
        return not self.failures


def _sides(line) -> list[Decimal]:
    """A unit's sides, largest first."""
    return sorted((line.length, line.width, line.height), reverse=True)


def package_checks(
    *, weight: Decimal, length: Decimal, dimensional_weight: Decimal, invoice: Decimal, policy
) -> list[str]:
    """The measure and amount codes 1010-1014 and 1018 that fail."""
    codes = []
    if weight <= ZERO:
        codes.append("RMA 1011")
    if weight > policy.max_weight:
        codes.append("RMA 1012")
    if length > policy.max_dimension:
        codes.append("RMA 1013")
    if dimensional_weight > policy.max_dimensional_weight:
        codes.append("RMA 1014")
    if invoice > policy.max_invoice_amount:
        codes.append("RMA 1010")
    if invoice < policy.min_invoice_amount:
        codes.append("RMA 1018")
    return codes


def _is_hazmat_refused(*, order, line, policy: StorePolicy) -> bool:
    # The eligibility rule itself; the window and quantity arguments are neutral values
    # because only its hazmat code is read here.
    codes = line_level_codes(
        order=order,
        line=line,
        policy=policy,
        returnable_quantity=1,
        last_moment=_ANY_MOMENT,
        now=_ANY_MOMENT,
    )
    return HAZMAT_CODE in codes


def package_for_lines(
    lines: Iterable[tuple[object, int]], *, policy: StorePolicy, order, currency: str
) -> Package:
    """The package holding `quantity` units of each order line, and the codes it fails.

    weight = Σ unit weight x quantity; length = the largest unit side of any line;
    width = the largest second side; height = Σ smallest side x quantity; dimensional
    weight = L x W x H ÷ dim_divisor rounded half up to 2 decimals; invoice = Σ unit
    price x quantity. `order` supplies the shipping address (1015, 1017).
    """
    weight = height = invoice = length = width = ZERO
    hazmat_refused = False
    for line, quantity in lines:
        largest, second, smallest = _sides(line)
        weight += line.weight * quantity
        length = max(length, largest)
        width = max(width, second)
        height += smallest * quantity
        invoice += line.unit_price * quantity
        hazmat_refused = hazmat_refused or _is_hazmat_refused(order=order, line=line, policy=policy)
    dimensional_weight = (length * width * height / policy.dim_divisor).quantize(
        CENT, rounding=ROUND_HALF_UP
    )
    codes = package_checks(
        weight=weight,
        length=length,
        dimensional_weight=dimensional_weight,
        invoice=invoice,
        policy=policy,
    )
    if hazmat_refused:
        codes.append(HAZMAT_CODE)
    codes += [
        code
        for code in order_level_codes(order=order, policy=policy)
        if code in ORDER_CODES_FOR_PACKAGE
    ]
    return Package(
        weight=weight,
        weight_unit=policy.weight_unit,
        length=length,
        width=width,
        height=height,
        dimension_unit=policy.dimension_unit,
        dimensional_weight=dimensional_weight,
        invoice_amount=invoice,
        currency=currency,
        failures=tuple(sorted(codes)),
    )


def package_for_rma(rma) -> Package:
    """The package of an RMA fetched with store, order and lines (with their order line)."""
    store = rma.store
    return package_for_lines(
        ((rma_line.order_line, rma_line.quantity) for rma_line in rma.lines.all()),
        policy=StorePolicy.of(store),
        order=rma.order,
        currency=store.currency,
    )


def decimal_text(value: Decimal) -> str:
    """A measure without trailing zeros and never in exponent form: 2.400 → "2.4"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def package_info(package: Package) -> dict:
    """The API's `packageInfo` object; decimals as strings (amounts with 2 decimals)."""
    return {
        "weight": decimal_text(package.weight),
        "weightUnit": package.weight_unit,
        "length": decimal_text(package.length),
        "width": decimal_text(package.width),
        "height": decimal_text(package.height),
        "dimensionUnit": package.dimension_unit,
        "dimensionalWeight": str(package.dimensional_weight),
        "invoiceAmount": str(package.invoice_amount.quantize(CENT, rounding=ROUND_HALF_UP)),
        "currency": package.currency,
        "eligible": package.eligible,
        "ineligibility": [
            {"code": code, "description": DESCRIPTIONS[code]} for code in package.failures
        ],
    }

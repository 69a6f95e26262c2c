"""The return estimate: amounts paid, fees and waivers, bonus, keep-item, exchanges."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments import money
from payments.estimate import Estimate, EstimateLine, estimate_return
from rma.policy import StorePolicy

FEE = {
    "amount": "4.95",
    "waived_for_resolutions": ["EXCHANGE", "STORE_CREDIT"],
    "waived_when_seller_fault": True,
}


def policy(**document) -> StorePolicy:
    return StorePolicy(document)


def line(
    amounts, resolution="REFUND", *, key=1, seller_fault=False, review=False, exchange_price=None
):
    return EstimateLine(
        key=key,
        unit_amounts=tuple(Decimal(amount) for amount in amounts),
        resolution=resolution,
        seller_fault=seller_fault,
        requires_review=review,
        exchange_unit_price=None if exchange_price is None else Decimal(exchange_price),
    )


def api(estimate: Estimate) -> tuple[str, str, str, str]:
    data = estimate.to_api()
    return data["subtotal"], data["fees"], data["bonus"], data["total"]


@pytest.mark.parametrize(
    ("lines", "document", "expected"),
    [
        # A plain refund, no fee configured.
        ([line(["39.99", "39.99"])], {}, ("79.98", "0.00", "0.00", "79.98")),
        # The return fee, once per RMA however many lines.
        (
            [line(["10.00"], key=1), line(["5.00", "5.00"], key=2)],
            {"return_fee": FEE},
            ("20.00", "4.95", "0.00", "15.05"),
        ),
        # Waived: every line is seller fault ...
        (
            [line(["10.00"], seller_fault=True)],
            {"return_fee": FEE},
            ("10.00", "0.00", "0.00", "10.00"),
        ),
        # ... but not when one line sent back is not.
        (
            [line(["10.00"], key=1, seller_fault=True), line(["10.00"], key=2)],
            {"return_fee": FEE},
            ("20.00", "4.95", "0.00", "15.05"),
        ),
        # Seller fault does not waive when the store says so.
        (
            [line(["10.00"], seller_fault=True)],
            {"return_fee": {**FEE, "waived_when_seller_fault": False}},
            ("10.00", "4.95", "0.00", "5.05"),
        ),
        # Waived for store credit; the bonus is 10 % of the amount paid.
        (
            [line(["19.99", "19.99"], "STORE_CREDIT")],
            {"return_fee": FEE, "store_credit_bonus_percent": "10"},
            ("39.98", "0.00", "4.00", "43.98"),
        ),
        # Store credit not waived: the fee comes after the bonus is computed.
        (
            [line(["20.00"], "STORE_CREDIT")],
            {
                "return_fee": {**FEE, "waived_for_resolutions": []},
                "store_credit_bonus_percent": "5",
            },
            ("20.00", "4.95", "1.00", "16.05"),
        ),
        # Never more fee than goes back.
        ([line(["3.00"])], {"return_fee": FEE}, ("3.00", "3.00", "0.00", "0.00")),
        # A cheaper exchange refunds the difference (exchange waives the fee).
        (
            [line(["25.00", "25.00"], "EXCHANGE", exchange_price="21.50")],
            {"return_fee": FEE},
            ("7.00", "0.00", "0.00", "7.00"),
        ),
        # An exchange for the same price gives nothing back, and a dearer one never costs.
        (
            [line(["25.00"], "EXCHANGE", exchange_price="25.00")],
            {},
            ("0.00", "0.00", "0.00", "0.00"),
        ),
        (
            [line(["25.00"], "EXCHANGE", exchange_price="30.00")],
            {},
            ("0.00", "0.00", "0.00", "0.00"),
        ),
        # An exchange the store does not waive still pays the fee out of its difference.
        (
            [line(["25.00"], "EXCHANGE", exchange_price="15.00")],
            {"return_fee": {**FEE, "waived_for_resolutions": []}},
            ("10.00", "4.95", "0.00", "5.05"),
        ),
        # Repairs and replacements give no money back.
        ([line(["25.00"], "REPAIR")], {"return_fee": FEE}, ("0.00", "0.00", "0.00", "0.00")),
        # Rounding remainder on the last unit: amounts are whatever was paid per unit.
        (
            [line(["10.47", "10.47", "10.46"])],
            {},
            ("31.40", "0.00", "0.00", "31.40"),
        ),
    ],
)
def test_estimate(lines, document, expected):
    estimate = estimate_return(lines, policy=policy(**document), currency="USD")
    assert api(estimate) == expected
    assert estimate.total == sum(item.total for item in estimate.lines)


@pytest.mark.parametrize(
    ("amounts", "threshold", "review", "kept"),
    [
        (["7.99"], "8.00", False, True),
        (["8.00"], "8.00", False, False),  # below, not at
        (["7.99"], "8.00", True, False),  # a reason needing review: sent back
        (["7.99"], None, False, False),  # no threshold: always sent back
        (["4.00", "4.01"], "4.01", False, True),  # per unit: 4.005 < 4.01
    ],
)
def test_keep_item_below(amounts, threshold, review, kept):
    document = {"return_fee": FEE}
    if threshold is not None:
        document["keep_item_below"] = threshold
    estimate = estimate_return(
        [line(amounts, review=review)], policy=policy(**document), currency="USD"
    )
    assert estimate.lines[0].keep_item is kept
    assert estimate.all_kept is kept
    # Kept lines are refunded all the same, and no return fee when nothing is sent back.
    assert estimate.return_fee == (Decimal(0) if kept else Decimal("4.95"))


def test_a_kept_line_beside_one_sent_back_is_not_charged_for_twice():
    estimate = estimate_return(
        [line(["5.00"], key="kept"), line(["30.00"], key="sent")],
        policy=policy(keep_item_below="8.00", return_fee=FEE),
        currency="USD",
    )
    assert [(item.key, item.keep_item, item.return_fee) for item in estimate.lines] == [
        ("kept", True, Decimal("0.00")),
        ("sent", False, Decimal("4.95")),
    ]
    assert api(estimate) == ("35.00", "4.95", "0.00", "30.05")


def test_the_fee_is_taken_first_from_the_lines_that_made_it_due():
    estimate = estimate_return(
        [
            line(["20.00"], key="defective", seller_fault=True),
            line(["3.00"], key="changed-mind"),
        ],
        policy=policy(return_fee=FEE),
        currency="USD",
    )
    assert [(item.key, item.return_fee) for item in estimate.lines] == [
        ("defective", Decimal("1.95")),
        ("changed-mind", Decimal("3.00")),
    ]


@pytest.mark.parametrize(
    ("received", "fees", "total"),
    [(False, "0.00", "39.98"), (True, "10.95", "29.03")],  # restocking: 15 % of 39.98
)
def test_restocking_fee_applies_on_receipt_only(received, fees, total):
    estimate = estimate_return(
        [line(["19.99", "19.99"])],
        policy=policy(return_fee=FEE, restocking_fee_percent="15", keep_item_below="50"),
        currency="USD",
        received=received,
    )
    assert api(estimate)[1:] == (fees, "0.00", total)
    # After receipt nothing is "kept": it was sent back.
    assert estimate.lines[0].keep_item is (not received)


@pytest.mark.parametrize(
    ("currency", "amounts", "fee", "bonus", "expected"),
    [
        ("JPY", ["1000", "999"], "500", "10", ("1999", "0", "200", "2199")),
        ("JPY", ["1000"], "499.5", "0", ("1000", "500", "0", "500")),  # fee rounded to yen
        ("KWD", ["1.250", "1.251"], "0.500", "10", ("2.501", "0.000", "0.250", "2.751")),
    ],
)
def test_currencies_with_other_minor_units(currency, amounts, fee, bonus, expected):
    resolution = "STORE_CREDIT" if bonus != "0" else "REFUND"
    estimate = estimate_return(
        [line(amounts, resolution)],
        policy=policy(return_fee={**FEE, "amount": fee}, store_credit_bonus_percent=bonus),
        currency=currency,
    )
    assert api(estimate) == expected
    assert estimate.to_api()["currency"] == currency


def test_combine_sums_the_estimates_of_a_request():
    first = estimate_return([line(["10.00"])], policy=policy(return_fee=FEE), currency="USD")
    second = estimate_return(
        [line(["20.00"], "STORE_CREDIT")],
        policy=policy(store_credit_bonus_percent="10"),
        currency="USD",
    )
    combined = Estimate.combine([first, second], currency="USD")
    assert combined.to_api() == {
        "currency": "USD",
        "subtotal": "30.00",
        "fees": "4.95",
        "bonus": "2.00",
        "total": "27.05",
    }
    assert (combined.refund_total, combined.store_credit_total) == (
        Decimal("5.05"),
        Decimal("22.00"),
    )
    with pytest.raises(money.MoneyError):
        Estimate.combine([first], currency="EUR")


def test_for_order_line_reads_the_amount_paid():
    class OrderLine:
        unit_price, quantity, discount, tax = Decimal("10.00"), 3, Decimal("1.00"), Decimal("2.40")

    item = EstimateLine.for_order_line(
        OrderLine, key=7, currency="USD", quantity=2, already_returned=1, resolution="REFUND"
    )
    assert item.unit_amounts == (Decimal("10.47"), Decimal("10.46"))
    assert (item.quantity, item.amount_paid) == (2, Decimal("20.93"))


@given(
    cents=st.integers(min_value=0, max_value=10**7),
    quantity=st.integers(min_value=1, max_value=30),
    discount_cents=st.integers(min_value=0, max_value=10**5),
    tax_cents=st.integers(min_value=0, max_value=10**5),
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
    split=st.integers(min_value=0, max_value=30),
)
def test_a_full_return_in_two_rmas_refunds_exactly_what_was_paid(
    cents, quantity, discount_cents, tax_cents, currency, split
):
    class OrderLine:
        pass

    unit = money.minor_unit(currency)
    OrderLine.unit_price, OrderLine.quantity = cents * unit, quantity
    OrderLine.discount, OrderLine.tax = discount_cents * unit, tax_cents * unit
    first_units = min(split, quantity)
    totals = []
    for units, already in ((first_units, 0), (quantity - first_units, first_units)):
        estimate = estimate_return(
            [
                EstimateLine.for_order_line(
                    OrderLine,
                    key=1,
                    currency=currency,
                    quantity=units,
                    already_returned=already,
                    resolution="REFUND",
                )
            ],
            policy=policy(),
            currency=currency,
        )
        totals.append(estimate.total)
    paid = money.line_amount_paid(
        unit_price=OrderLine.unit_price,
        quantity=quantity,
        discount=OrderLine.discount,
        tax=OrderLine.tax,
        currency=currency,
    )
    assert sum(totals) == paid

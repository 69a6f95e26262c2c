"""The pure estimate with the store rules' decisions: a line a rule keeps, the rule's return fee."""

from decimal import Decimal

import pytest

from payments.estimate import EstimateLine, estimate_return, keeps_item
from rma.policy import StorePolicy

POLICY = StorePolicy(
    {
        "return_fee": {
            "amount": "4.95",
            "waived_for_resolutions": ["STORE_CREDIT"],
            "waived_when_seller_fault": True,
        }
    }
)


def line(amount="30.00", resolution="REFUND", *, key=1, keep=False, review=False, fault=False):
    return EstimateLine(
        key=key,
        unit_amounts=(Decimal(amount),),
        resolution=resolution,
        seller_fault=fault,
        requires_review=review,
        keep_item=keep,
    )


@pytest.mark.parametrize(
    ("estimate_line", "kept"),
    [
        (line(keep=True), True),  # whatever its amount (no threshold at all)
        (line("999.00", "STORE_CREDIT", keep=True), True),
        (line(keep=True, review=True), False),  # review first
        (line("30.00", "EXCHANGE", keep=True), False),  # the item is needed
        (line("30.00", "REPAIR", keep=True), False),
        (line(), False),
    ],
)
def test_a_rule_keeps_a_money_line_that_needs_no_review(estimate_line, kept):
    assert keeps_item(estimate_line, threshold=None, currency="USD") is kept
    estimate = estimate_return([estimate_line], policy=POLICY, currency="USD")
    assert estimate.all_kept is kept


def test_kept_by_a_rule_pays_no_fee_and_nothing_is_kept_once_received():
    before = estimate_return([line(keep=True)], policy=POLICY, currency="USD")
    assert (before.return_fee, before.total) == (0, Decimal("30.00"))
    after = estimate_return([line(keep=True)], policy=POLICY, currency="USD", received=True)
    assert not after.all_kept and after.return_fee == Decimal("4.95")


@pytest.mark.parametrize(
    ("lines", "rule_fee", "fee"),
    [
        ([line()], Decimal("10"), "10.00"),
        ([line()], Decimal(0), "0.00"),  # waived
        ([line(fault=True)], Decimal("10"), "10.00"),  # the policy's waivers do not apply
        ([line("30.00", "STORE_CREDIT")], Decimal("2.5"), "2.50"),
        ([line("3.00")], Decimal("10"), "3.00"),  # never more than goes back
        ([line(keep=True)], Decimal("10"), "0.00"),  # nothing shipped
        ([line(keep=True), line(key=2)], Decimal("10"), "10.00"),
        ([line(fault=True)], None, "0.00"),  # the policy as before
    ],
)
def test_a_rules_fee_replaces_the_policys_amount_and_waivers(lines, rule_fee, fee):
    estimate = estimate_return(lines, policy=POLICY, currency="USD", return_fee=rule_fee)
    assert estimate.to_api()["fees"] == fee
    assert estimate.subtotal - estimate.fees + estimate.bonus == estimate.total

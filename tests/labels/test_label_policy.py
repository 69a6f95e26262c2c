"""The store policy's `label` rules: reading, validating on import, choosing rates."""

from decimal import Decimal

import pytest

from labels.adapters import PermanentLabelError
from labels.adapters.carrier import Offer, cheapest_allowed
from rma.importing.fields import Problems
from rma.importing.schema import read_policy
from rma.policy import LabelPolicy, StorePolicy


def offer(carrier, service, amount, token=""):
    return Offer(f"{carrier}-{service}", carrier, service, Decimal(amount), "USD", token)


OFFERS = [
    offer("USPS", "Priority", "7.50"),
    offer("UPS", "Ground", "9.10", "ups_ground"),
    offer("FedEx", "Ground", "6.20"),
]


def test_no_label_policy_allows_every_rate():
    policy = StorePolicy({}).label
    assert policy == LabelPolicy()
    assert cheapest_allowed(OFFERS, policy).carrier == "FedEx"


@pytest.mark.parametrize(
    ("document", "chosen"),
    [
        ({"carriers": ["USPS", "UPS"]}, "USPS-Priority"),
        ({"carriers": ["usps", "ups"], "max_rate": "15.00"}, "USPS-Priority"),
        ({"services": ["Ground"]}, "FedEx-Ground"),
        ({"services": ["ups_ground"]}, "UPS-Ground"),
        ({"max_rate": "7.00"}, "FedEx-Ground"),
        ({"carriers": ["UPS"], "max_rate": "9.10"}, "UPS-Ground"),
    ],
)
def test_the_cheapest_allowed_rate_is_chosen(document, chosen):
    assert cheapest_allowed(OFFERS, StorePolicy({"label": document}).label).rate_id == chosen


@pytest.mark.parametrize(
    "document",
    [{"max_rate": "6.00"}, {"carriers": ["DHL"]}, {"carriers": ["UPS"], "max_rate": "9"}],
)
def test_no_allowed_rate_is_a_permanent_failure_naming_the_offers(document):
    with pytest.raises(PermanentLabelError, match=r"USPS Priority 7\.50 USD"):
        cheapest_allowed(OFFERS, StorePolicy({"label": document}).label)


def test_no_offer_at_all_is_a_permanent_failure():
    with pytest.raises(PermanentLabelError, match="offered: none"):
        cheapest_allowed([], LabelPolicy())


def test_the_import_stores_the_label_policy_with_the_rate_as_text():
    problems = Problems()
    policy = read_policy(
        {"label": {"carriers": ["USPS", "UPS"], "services": [], "max_rate": 15, "qr_code": True}},
        "stores[0].policy",
        problems,
    )
    assert not problems
    assert policy == {
        "label": {"carriers": ["USPS", "UPS"], "services": [], "max_rate": "15", "qr_code": True}
    }
    label = StorePolicy(policy).label
    assert (label.max_rate, label.qr_code) == (Decimal("15"), True)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("USPS", "stores[0].policy.label: must be an object"),
        ({"carriers": "USPS"}, "stores[0].policy.label.carriers: must be a list"),
        ({"carriers": ["USPS", "USPS"]}, '"USPS" is listed more than once'),
        ({"max_rate": "-1"}, "stores[0].policy.label.max_rate: must be above 0"),
        ({"max_rate": "1.005"}, "at most 2 decimal places"),
        ({"qr_code": "yes"}, "stores[0].policy.label.qr_code: must be true or false"),
        ({"carrier": ["USPS"]}, 'unknown key "carrier"'),
    ],
)
def test_the_import_refuses_a_malformed_label_policy(label, message):
    problems = Problems()
    read_policy({"label": label}, "stores[0].policy", problems)
    assert any(message in line for line in problems.messages), problems.messages

"""The money keys of the store policy and the import format (discount, tax, payment)."""

from decimal import Decimal

import pytest

from rma.importing import ImportValidationError, import_document, order_document
from rma.models import Order, Store
from rma.policy import PolicyError, StorePolicy
from tests.factories import import_line_data, import_order_data, spec_import_document

pytestmark = pytest.mark.django_db

MONEY_POLICY = {
    "return_fee": {
        "amount": "4.95",
        "waived_for_resolutions": ["EXCHANGE", "STORE_CREDIT"],
        "waived_when_seller_fault": True,
    },
    "store_credit_bonus_percent": "10",
    "keep_item_below": "8.00",
    "exchange": {"instant": False, "allow_other_products": False},
}


def test_defaults():
    policy = StorePolicy({})
    assert policy.return_fee.amount == Decimal(0)
    assert policy.return_fee.waived_for_resolutions == {"EXCHANGE", "STORE_CREDIT"}
    assert policy.return_fee.waived_when_seller_fault is True
    assert policy.store_credit_bonus_percent == Decimal(0)
    assert policy.keep_item_below is None
    assert (policy.exchange.instant, policy.exchange.allow_other_products) == (False, False)
    assert policy.store_credit_expiry_days == 365


def test_given_values():
    policy = StorePolicy(
        {
            **MONEY_POLICY,
            "return_fee": {"amount": "2.50"},  # the other fee keys keep their defaults
            "exchange": {"instant": True},
            "store_credit_expiry_days": 90,
        }
    )
    assert policy.return_fee.amount == Decimal("2.50")
    assert policy.return_fee.waived_when_seller_fault is True
    assert policy.store_credit_bonus_percent == Decimal(10)
    assert policy.keep_item_below == Decimal("8.00")
    assert (policy.exchange.instant, policy.exchange.allow_other_products) == (True, False)
    assert policy.store_credit_expiry_days == 90


@pytest.mark.parametrize(
    ("document", "attribute", "key"),
    [
        ({"return_fee": {"amount": "lots"}}, "return_fee", "return_fee.amount"),
        ({"return_fee": {"amount": "-1"}}, "return_fee", "return_fee.amount"),
        ({"return_fee": {"fee": "1"}}, "return_fee", "return_fee"),
        ({"return_fee": "4.95"}, "return_fee", "return_fee"),
        (
            {"return_fee": {"waived_for_resolutions": "EXCHANGE"}},
            "return_fee",
            "return_fee.waived_for_resolutions",
        ),
        (
            {"return_fee": {"waived_when_seller_fault": "yes"}},
            "return_fee",
            "return_fee.waived_when_seller_fault",
        ),
        ({"store_credit_bonus_percent": 10.5}, "store_credit_bonus_percent", "store_credit_bonus"),
        ({"keep_item_below": "cheap"}, "keep_item_below", "keep_item_below"),
        ({"exchange": {"instant": 1}}, "exchange", "exchange.instant"),
        ({"store_credit_expiry_days": 0}, "store_credit_expiry_days", "store_credit_expiry"),
    ],
)
def test_bad_stored_values_name_the_key(document, attribute, key):
    with pytest.raises(PolicyError, match=f"policy.{key}"):
        getattr(StorePolicy(document), attribute)


def document_with(policy=None, **order):
    document = spec_import_document()
    document["stores"][0]["policy"].update(policy or {})
    document["orders"] = [import_order_data(**order)]
    return document


def test_import_money_policy_and_order_fields():
    document = document_with(
        policy={**MONEY_POLICY, "store_credit_expiry_days": 180},
        payment={"provider": "stripe", "payment_intent": "pi_3Abc"},
        lines=[import_line_data(discount="5.00", tax="3.20")],
    )
    import_document(document)
    policy = StorePolicy.of(Store.objects.get(code="TMSUS"))
    assert policy.return_fee.amount == Decimal("4.95")
    assert policy.keep_item_below == Decimal("8.00")
    assert policy.store_credit_expiry_days == 180
    order = Order.objects.get(order_id="3000179302")
    assert (order.payment_provider, order.payment_intent) == ("stripe", "pi_3Abc")
    line = order.lines.get()
    assert (line.discount, line.tax) == (Decimal("5.00"), Decimal("3.20"))
    exported = order_document(order)
    assert exported["payment"] == {"provider": "stripe", "payment_intent": "pi_3Abc"}
    assert (exported["lines"][0]["discount"], exported["lines"][0]["tax"]) == ("5.00", "3.20")


def test_import_defaults_discount_tax_and_payment():
    import_document(document_with())
    order = Order.objects.get(order_id="3000179302")
    assert (order.payment_provider, order.payment_intent) == ("", "")
    assert (order.lines.get().discount, order.lines.get().tax) == (Decimal(0), Decimal(0))
    assert "payment" not in order_document(order)


@pytest.mark.parametrize(
    ("policy", "order", "message"),
    [
        ({"return_fee": {"amount": "x"}}, {}, "policy.return_fee.amount"),
        ({"return_fee": {"fee": "1"}}, {}, 'policy.return_fee: unknown key "fee"'),
        (
            {"return_fee": {"waived_for_resolutions": ["CASH"]}},
            {},
            "policy.return_fee.waived_for_resolutions[0]",
        ),
        ({"store_credit_bonus_percent": "-1"}, {}, "policy.store_credit_bonus_percent"),
        ({"keep_item_below": "-1"}, {}, "policy.keep_item_below"),
        ({"exchange": {"instant": "no"}}, {}, "policy.exchange.instant"),
        ({"store_credit_expiry_days": 0}, {}, "policy.store_credit_expiry_days"),
        ({}, {"lines": [import_line_data(discount="80.00")]}, "lines[0].discount"),
        ({}, {"lines": [import_line_data(tax="-1")]}, "lines[0].tax"),
        ({}, {"payment": {"provider": "stripe"}}, 'missing required key "payment_intent"'),
        (
            {},
            {"payment": {"provider": "stripe", "payment_intent": "ch_1"}},
            "payment.payment_intent",
        ),
        (
            {},
            {"payment": {"provider": "Stripe!", "payment_intent": "pi_1"}},
            "payment.provider",
        ),
    ],
)
def test_bad_money_import_is_refused_naming_the_key(policy, order, message):
    with pytest.raises(ImportValidationError) as refused:
        import_document(document_with(policy=policy, **order))
    assert any(message in error for error in refused.value.errors), refused.value.errors
    assert not Store.objects.exists()

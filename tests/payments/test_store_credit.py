"""The store credit ledger: issuing, redeeming (idempotent, never below zero), expiry."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from payments.models import StoreCredit, StoreCreditEntry
from payments.services import PaymentError, store_credit_issue, store_credit_redeem
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(code="TMSUS", policy={"store_credit_expiry_days": 30})


@pytest.fixture
def credit(store):
    return store_credit_issue(store=store, amount=Decimal("50.00"))


def ledger(credit):
    return [
        (entry.kind, entry.amount, entry.balance_after, entry.reference)
        for entry in StoreCreditEntry.objects.filter(credit=credit).order_by("id")
    ]


def test_issue_writes_the_credit_and_its_first_entry(store):
    now = timezone.now()
    credit = store_credit_issue(store=store, amount=Decimal("12.345"), now=now)
    assert credit.code.startswith("SC-")
    assert (credit.amount, credit.balance, credit.currency) == (
        Decimal("12.35"),
        Decimal("12.35"),
        "USD",
    )
    assert credit.expires_at == now + dt.timedelta(days=30)
    assert ledger(credit) == [("ISSUE", Decimal("12.35"), Decimal("12.35"), "")]


def test_issue_expiry_defaults_to_a_year():
    now = timezone.now()
    credit = store_credit_issue(store=StoreFactory(), amount=Decimal("1.00"), now=now)
    assert credit.expires_at == now + dt.timedelta(days=365)


def test_issue_refuses_a_code_in_use(store, credit):
    with pytest.raises(PaymentError) as refused:
        store_credit_issue(store=store, amount=Decimal("1.00"), code=credit.code)
    assert refused.value.field == "code"
    assert StoreCredit.objects.count() == 1


def test_redeem_spends_and_records_the_reference(store, credit):
    redemption = store_credit_redeem(
        store=store, code=credit.code, amount="20.00", reference="order-1"
    )
    assert not redemption.replayed
    credit.refresh_from_db()
    assert credit.balance == Decimal("30.00")
    assert ledger(credit)[1:] == [("REDEEM", Decimal("-20.00"), Decimal("30.00"), "order-1")]


def test_redeem_is_idempotent_per_reference(store, credit):
    first = store_credit_redeem(store=store, code=credit.code, amount="20.00", reference="o-1")
    again = store_credit_redeem(store=store, code=credit.code, amount="20.00", reference="o-1")
    assert again.replayed
    assert again.entry.pk == first.entry.pk
    credit.refresh_from_db()
    assert credit.balance == Decimal("30.00")
    assert len(ledger(credit)) == 2


def test_the_whole_balance_can_be_spent_but_no_more(store, credit):
    store_credit_redeem(store=store, code=credit.code, amount="50.00", reference="o-1")
    with pytest.raises(PaymentError) as refused:
        store_credit_redeem(store=store, code=credit.code, amount="0.01", reference="o-2")
    assert refused.value.status == 422
    credit.refresh_from_db()
    assert credit.balance == Decimal("0.00")


@pytest.mark.parametrize(
    ("amount", "reference", "status", "field"),
    [
        ("50.01", "o-1", 422, "amount"),  # more than the balance
        ("0", "o-1", 400, "amount"),
        ("-5.00", "o-1", 400, "amount"),
        ("1.005", "o-1", 400, "amount"),  # finer than a cent
        ("five", "o-1", 400, "amount"),
        ("5.00", "", 400, "reference"),
        ("5.00", "   ", 400, "reference"),
        ("5.00", None, 400, "reference"),
        ("5.00", "x" * 101, 400, "reference"),
    ],
)
def test_bad_redemptions_are_refused_and_change_nothing(
    store, credit, amount, reference, status, field
):
    with pytest.raises(PaymentError) as refused:
        store_credit_redeem(store=store, code=credit.code, amount=amount, reference=reference)
    assert (refused.value.status, refused.value.field) == (status, field)
    credit.refresh_from_db()
    assert credit.balance == Decimal("50.00")
    assert len(ledger(credit)) == 1


def test_a_reference_reused_for_another_amount_is_a_conflict(store, credit):
    store_credit_redeem(store=store, code=credit.code, amount="5.00", reference="o-1")
    with pytest.raises(PaymentError) as refused:
        store_credit_redeem(store=store, code=credit.code, amount="6.00", reference="o-1")
    assert refused.value.status == 409
    credit.refresh_from_db()
    assert credit.balance == Decimal("45.00")


def test_an_expired_credit_is_refused(store, credit):
    later = credit.expires_at + dt.timedelta(seconds=1)
    with pytest.raises(PaymentError) as refused:
        store_credit_redeem(store=store, code=credit.code, amount="1.00", reference="o", now=later)
    assert refused.value.status == 422
    assert "expired" in refused.value.message


def test_another_stores_credit_is_not_found(credit):
    with pytest.raises(PaymentError) as refused:
        store_credit_redeem(
            store=StoreFactory(code="OTHER"), code=credit.code, amount="1.00", reference="o"
        )
    assert refused.value.status == 404


def test_zero_decimal_currency_credit():
    store = StoreFactory(currency="JPY")
    credit = store_credit_issue(store=store, amount=Decimal("1000"))
    store_credit_redeem(store=store, code=credit.code, amount="300", reference="o-1")
    with pytest.raises(PaymentError):
        store_credit_redeem(store=store, code=credit.code, amount="0.5", reference="o-2")
    credit.refresh_from_db()
    assert credit.balance == Decimal("700")

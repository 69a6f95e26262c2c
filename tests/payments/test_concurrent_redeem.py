"""Concurrent redemptions of one store credit on PostgreSQL: never overspent, never twice."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from payments.models import StoreCredit, StoreCreditEntry
from payments.services import PaymentError, store_credit_issue, store_credit_redeem
from tests.factories import StoreFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def redeem_concurrently(store, code, requests) -> list:
    """Run every (amount, reference) at once, one thread and connection each."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(index, amount, reference):
        try:
            barrier.wait(timeout=30)
            redemption = store_credit_redeem(
                store=store, code=code, amount=amount, reference=reference
            )
            results[index] = "replayed" if redemption.replayed else "spent"
        except PaymentError as refused:
            results[index] = refused.status
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, amount, reference))
        for index, (amount, reference) in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_twenty_concurrent_redemptions_never_overspend():
    store = StoreFactory()
    credit = store_credit_issue(store=store, amount=Decimal("50.00"))
    results = redeem_concurrently(
        store, credit.code, [("7.00", f"order-{n}") for n in range(THREADS)]
    )
    # 7 x 7.00 = 49.00 fits in 50.00; the 8th would not.
    assert results.count("spent") == 7
    assert results.count(422) == THREADS - 7
    credit = StoreCredit.objects.get(pk=credit.pk)
    assert credit.balance == Decimal("1.00")
    entries = StoreCreditEntry.objects.filter(credit=credit)
    assert sum(entry.amount for entry in entries) == credit.balance
    assert entries.filter(kind="REDEEM").count() == 7


def test_twenty_concurrent_copies_of_one_redemption_spend_once():
    store = StoreFactory()
    credit = store_credit_issue(store=store, amount=Decimal("50.00"))
    results = redeem_concurrently(store, credit.code, [("7.00", "order-1")] * THREADS)
    assert results.count("spent") == 1
    assert results.count("replayed") == THREADS - 1
    assert StoreCredit.objects.get(pk=credit.pk).balance == Decimal("43.00")

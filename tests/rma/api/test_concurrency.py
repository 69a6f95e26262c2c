"""Concurrent generateRMA with one transactionId: one RMA, the same answer for everyone.

Real transactions on PostgreSQL (SQLite serialises writers, which would prove nothing).
"""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from rma.apikeys import api_key_create
from rma.models import ApiTransaction, Rma, RmaEvent
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory
from tests.rma.api.conftest import api_url, rma_body

CALLERS = 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_rma(settings, monkeypatch):
    settings.LABEL_SERVICE = "none"
    # Follow-up tasks are not under test; keep the threads to the request itself.
    monkeypatch.setattr("rma.queue.enqueue", lambda *args, **kwargs: True)
    store = StoreFactory(code="TMSUS")
    order = OrderFactory(store=store, order_id="3000179302")
    OrderLineFactory(order=order, line_number=1, quantity=2)
    OrderLineFactory(order=order, line_number=2, quantity=1)
    _, raw_key = api_key_create(store=store, name="OMS")
    body = json.dumps(rma_body(order, (1, 1), (2, 1), transaction_id="txn-race")).encode()
    url = api_url("TMSUS", order.order_id, "generateRMA", "json")

    start = threading.Barrier(CALLERS)
    replies: list[tuple[int, bytes]] = []
    errors: list[BaseException] = []

    def call():
        try:
            start.wait(timeout=30)
            response = Client().generic(
                "POST", url, body, content_type="application/json", headers={"apikey": raw_key}
            )
            replies.append((response.status_code, response.content))
        except BaseException as error:  # reported below, with the thread's own traceback
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert len(replies) == CALLERS
    assert {status for status, _ in replies} == {201}, replies
    rmaids = {
        tuple(detail["rmaid"] for detail in json.loads(content)["rmadetails"])
        for _, content in replies
    }
    assert len(rmaids) == 1
    [numbers] = rmaids
    assert list(Rma.objects.values_list("rma_number", flat=True)) == list(numbers)
    assert Rma.objects.count() == 1
    assert ApiTransaction.objects.count() == 1
    assert RmaEvent.objects.filter(type="rma.created").count() == 1
    assert len({content for _, content in replies}) == 1

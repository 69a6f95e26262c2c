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


def call_at_once(requests: list[tuple[str, bytes]], raw_key: str) -> list[tuple[int, bytes]]:
    """POST every (url, body) from a thread of its own, all released at the same moment."""
    start = threading.Barrier(len(requests))
    replies: list[tuple[int, bytes]] = []
    errors: list[BaseException] = []

    def call(url, body):
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

    threads = [threading.Thread(target=call, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert len(replies) == len(requests)
    return replies


@pytest.fixture
def follow_ups_off(settings, monkeypatch):
    settings.LABEL_SERVICE = "none"
    # Follow-up tasks are not under test; keep the threads to the request itself.
    monkeypatch.setattr("rma.queue.enqueue", lambda *args, **kwargs: True)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_rma(follow_ups_off):
    store = StoreFactory(code="TMSUS")
    order = OrderFactory(store=store, order_id="3000179302")
    OrderLineFactory(order=order, line_number=1, quantity=2)
    OrderLineFactory(order=order, line_number=2, quantity=1)
    _, raw_key = api_key_create(store=store, name="OMS")
    body = json.dumps(rma_body(order, (1, 1), (2, 1), transaction_id="txn-race")).encode()
    url = api_url("TMSUS", order.order_id, "generateRMA", "json")

    replies = call_at_once([(url, body)] * CALLERS, raw_key)

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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_transaction_id_sent_at_once_for_two_orders_binds_one(follow_ups_off):
    # No order lock to share: the transaction id's unique row settles it.
    store = StoreFactory(code="TMSUS")
    orders = [OrderFactory(store=store, order_id=f"300017930{n}") for n in (1, 2)]
    for order in orders:
        OrderLineFactory(order=order, line_number=1, quantity=1)
    _, raw_key = api_key_create(store=store, name="OMS")
    requests = [
        (
            api_url("TMSUS", order.order_id, "generateRMA", "json"),
            json.dumps(rma_body(order, (1, 1), transaction_id="txn-race")).encode(),
        )
        for order in orders
    ]

    replies = call_at_once(requests, raw_key)

    assert sorted(status for status, _ in replies) == [201, 409], replies
    [(_, refused)] = [reply for reply in replies if reply[0] == 409]
    assert json.loads(refused)["fault"]["code"] == "RMA 1022"
    assert Rma.objects.count() == 1
    assert ApiTransaction.objects.count() == 1

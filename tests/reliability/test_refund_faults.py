"""Refunds through Stripe under duplicated tasks and a killed worker: one refund.

The refund task claims the refund row before calling Stripe and sends an idempotency
key derived from the RMA. Duplicates that find the claim look again when it lapses and
then find the refund done; a worker killed after Stripe made the refund (but before it
was recorded) leaves a claim that lapses, and the redelivered task asks again with the
same key, which Stripe answers with the refund it already made.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

import payments.services
from payments.models import Refund, RefundStatus
from payments.services import _enqueue
from rma.models import RmaEvent, RmaStatus
from rma.services.actors import Actor
from rma.services.rma_resolve import LineResolution, rma_resolve
from tests.factories import OrderLineFactory, RmaFactory, RmaLineFactory
from tests.payments.stripe_server import API_KEY, FakeStripe, Hold, Sleep

from .pipeline import QUEUE, WorkerProcess, wait_for, wait_until_idle

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

COPIES = 3
STRIPE_TIMEOUT = 0.5
# Seconds before Redis hands an unacknowledged message to another worker (2 h in production).
VISIBILITY_TIMEOUT = 2


@pytest.fixture
def stripe_api(settings):
    server = FakeStripe().start()
    settings.REFUND_SERVICE = "stripe"
    settings.STRIPE_API_KEY = API_KEY
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_TIMEOUT = STRIPE_TIMEOUT
    yield server
    server.stop()


@pytest.fixture
def received_rma(stripe_api):
    """A RECEIVED RMA of one unit of 25.00, paid through Stripe (a PaymentIntent of 50.00)."""
    rma = RmaFactory(
        status=RmaStatus.RECEIVED,
        order__payment_provider="stripe",
        order__payment_intent=stripe_api.payment_intent(5000),
    )
    order_line = OrderLineFactory(
        order=rma.order, line_number=1, quantity=2, unit_price=Decimal("25.00")
    )
    RmaLineFactory(rma=rma, order_line=order_line, quantity=1, received_quantity=1)
    return rma


def resolve(rma) -> Refund:
    """The agent resolves the RMA as a refund; the task is published after commit."""
    with transaction.atomic():
        rma_resolve(
            rma=rma,
            actor=Actor.system("test"),
            lines=[LineResolution(rma.lines.get().pk, "REFUND")],
        )
    return Refund.objects.get(rma=rma)


def assert_refunded_once(rma, stripe_api) -> Refund:
    refund = Refund.objects.get(rma=rma)
    assert refund.status == RefundStatus.SUCCEEDED
    [made] = stripe_api.refunds.values()
    assert (made["id"], made["amount"]) == (refund.provider_refund_id, 2500)
    assert {call.idempotency_key for call in stripe_api.requests} == {refund.idempotency_key}
    assert RmaEvent.objects.filter(rma=rma, type="rma.refunded").count() == 1
    return refund


@pytest.fixture
def short_refund_claims(monkeypatch):
    """A claim lapses after 1.5 s (the slowest call here takes 0.3 s)."""
    monkeypatch.setattr(payments.services, "claim_duration", lambda: dt.timedelta(seconds=1.5))


def test_duplicated_refund_tasks_run_concurrently_make_one_request(
    stripe_api, received_rma, short_refund_claims, broker, start_embedded_worker
):
    # A slow answer, so the duplicates arrive while the first call is in progress.
    stripe_api.then(Sleep(0.3))
    refund = resolve(received_rma)
    for _ in range(COPIES - 1):
        assert _enqueue("payments.execute_refund", refund_id=refund.pk)
    # The copies wait beside the first task and the resolved email.
    assert broker.llen(QUEUE) >= COPIES

    start_embedded_worker(concurrency=2 * COPIES)
    wait_for(
        lambda: Refund.objects.filter(pk=refund.pk, status=RefundStatus.SUCCEEDED).exists(),
        what="the refund",
    )
    wait_until_idle(broker)

    assert len(stripe_api.requests) == 1
    assert assert_refunded_once(received_rma, stripe_api).attempts == 1


@pytest.fixture
def worker_process(celery_app, stripe_api, tmp_path):
    """`celery worker` processes on this test's database, broker and Stripe API."""
    workers = []

    def start(name: str):
        worker = WorkerProcess(
            name,
            log_dir=tmp_path,
            env={
                "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                "REFUND_SERVICE": "stripe",
                "STRIPE_API_KEY": API_KEY,
                "STRIPE_API_BASE": stripe_api.url,
                "STRIPE_TIMEOUT": str(STRIPE_TIMEOUT),
                "ALLOW_PRIVATE_OUTBOUND": "1",
            },
        )
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()
        print(f"--- worker {worker.name} ---\n{worker.log()}")  # shown when the test fails


def test_a_worker_killed_after_stripe_refunded_leads_to_one_refund(
    stripe_api, received_rma, broker, worker_process
):
    # Stripe makes the refund, then the answer waits: the worker dies before it hears.
    stripe_api.then(Hold())
    first = worker_process("first")
    refund = resolve(received_rma)

    stripe_api.wait_for_requests(1, timeout=60)
    first.kill()
    stripe_api.release()
    assert len(stripe_api.refunds) == 1
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.PENDING

    # The next worker gets the task back once the visibility timeout has passed, waits
    # for the dead worker's claim to lapse, and asks Stripe again with the same key.
    worker_process("second")
    wait_for(
        lambda: Refund.objects.filter(pk=refund.pk, status=RefundStatus.SUCCEEDED).exists(),
        timeout=120,
        what="the refund to be recorded",
    )
    wait_until_idle(broker, timeout=60)

    assert len(stripe_api.requests) == 2
    assert stripe_api.requests[1].idempotency_key == stripe_api.requests[0].idempotency_key
    assert assert_refunded_once(received_rma, stripe_api).attempts == 2

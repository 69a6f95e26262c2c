"""Refunds through Stripe under duplicated tasks and a killed worker: one refund.

The refund task claims the refund row before calling Stripe and sends an idempotency
key derived from the RMA. Duplicates that find the claim look again when it lapses and
then find the refund done; a worker killed after Stripe made the refund (but before it
was recorded) leaves a claim that lapses, and the redelivered task asks again with the
same key, which Stripe answers with the refund it already made.

Nothing here depends on how fast the machine is: Stripe holds its answer until the test
lets it go (the duplicates have stepped aside, the worker is dead), and the next worker
starts once Redis holds the killed worker's message past its visibility timeout.
"""

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
from tests.payments.stripe_server import API_KEY, Hold, stripe_for_refunds

from .pipeline import (
    QUEUE,
    assert_killed_holding_the_claim,
    record_deferred_checks,
    unacked_tasks,
    wait_for,
    wait_until_idle,
    wait_until_restorable,
    worker_processes,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

COPIES = 3
# The Stripe client's connect and read timeout (seconds): a held request outlasts the
# time the test takes to see it and kill its worker many times over. A dead worker's
# claim lapses 2 x this + 30 s after it was taken.
STRIPE_TIMEOUT = 5
# Seconds before Redis hands an unacknowledged message to another worker (2 h in production).
VISIBILITY_TIMEOUT = 2


@pytest.fixture
def stripe_api(settings):
    with stripe_for_refunds(settings, timeout=STRIPE_TIMEOUT) as server:
        yield server


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
def deferred_refund_checks(monkeypatch):
    return record_deferred_checks(monkeypatch, payments.services)


def refund_succeeded(refund) -> bool:
    return Refund.objects.filter(pk=refund.pk, status=RefundStatus.SUCCEEDED).exists()


def test_duplicated_refund_tasks_run_concurrently_make_one_request(
    stripe_api, received_rma, deferred_refund_checks, broker, start_embedded_worker, settings
):
    # Stripe makes the refund and keeps the answer until every other copy has found the
    # first one's claim; the client waits longer than the test could ever hold it.
    settings.STRIPE_TIMEOUT = 300
    stripe_api.then(Hold())
    refund = resolve(received_rma)
    for _ in range(COPIES - 1):
        assert _enqueue("payments.execute_refund", refund_id=refund.pk)
    # The copies wait beside the first task and the resolved email.
    assert broker.llen(QUEUE) >= COPIES

    start_embedded_worker(concurrency=2 * COPIES)
    stripe_api.wait_for_requests(1)
    # Every other copy finds the first one's claim and steps aside, without a request.
    wait_for(lambda: len(deferred_refund_checks) == COPIES - 1, what="the copies to find the claim")
    assert deferred_refund_checks == [("payments.execute_refund", {"refund_id": refund.pk})] * (
        COPIES - 1
    )
    assert len(stripe_api.requests) == 1
    stripe_api.release()
    wait_for(lambda: refund_succeeded(refund), what="the refund")
    wait_until_idle(broker)

    # The copies look again, as they would once the claim lapsed: nothing is left to do.
    for task_name, kwargs in deferred_refund_checks:
        assert _enqueue(task_name, **kwargs)
    wait_until_idle(broker)

    assert len(stripe_api.requests) == 1
    assert len(deferred_refund_checks) == COPIES - 1  # and none of them looks again
    assert assert_refunded_once(received_rma, stripe_api).attempts == 1


@pytest.fixture
def worker_process(celery_app, stripe_api, tmp_path):
    """`celery worker` processes on this test's database, broker and Stripe API."""
    with worker_processes(
        log_dir=tmp_path,
        env={
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "REFUND_SERVICE": "stripe",
            "STRIPE_API_KEY": API_KEY,
            "STRIPE_API_BASE": stripe_api.url,
            "STRIPE_TIMEOUT": str(STRIPE_TIMEOUT),
        },
    ) as start:
        yield start


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
    # Killed holding its claim (not after giving up on its timeout), and the task not
    # lost: Redis holds it as delivered to a worker that is gone.
    assert_killed_holding_the_claim(Refund.objects.get(pk=refund.pk), RefundStatus.PENDING)
    assert "payments.execute_refund" in unacked_tasks(broker)

    # The next worker, started once the message is past the visibility timeout, gets the
    # task back, waits for the dead worker's claim to lapse, and asks Stripe again with
    # the same key.
    wait_until_restorable(broker, visibility_timeout=VISIBILITY_TIMEOUT)
    worker_process("second")
    wait_for(lambda: refund_succeeded(refund), timeout=150, what="the refund to be recorded")
    wait_until_idle(broker, timeout=60)

    assert len(stripe_api.requests) == 2
    assert stripe_api.requests[1].idempotency_key == stripe_api.requests[0].idempotency_key
    assert assert_refunded_once(received_rma, stripe_api).attempts == 2

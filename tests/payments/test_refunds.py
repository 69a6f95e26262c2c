"""Refunds: recorded when an RMA resolves, executed by the task after commit, once."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from payments.models import Refund, RefundStatus
from payments.services import (
    refund_claim_lapses_in,
    refund_execute,
    refund_fail,
    refund_retry,
)
from payments.tasks import REFUND_MAX_RETRIES, execute_refund, sweep_refunds
from rma.models import RmaEvent, RmaStatus
from rma.services.actors import Actor
from rma.services.rma_resolve import LineResolution, rma_resolve
from tests.factories import OrderLineFactory, RmaFactory, RmaLineFactory, StoreFactory, UserFactory

from .stripe_server import Answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return Actor.agent(UserFactory(username="resolver"))


def received_rma(*, intent="", provider="stripe", price="19.99", quantity=2, currency="USD"):
    store = StoreFactory(
        currency=currency,
        policy={"return_fee": {"amount": "4.95", "waived_when_seller_fault": True}},
    )
    rma = RmaFactory(
        order__store=store,
        order__payment_provider=provider if intent else "",
        order__payment_intent=intent,
        status=RmaStatus.RECEIVED,
    )
    order_line = OrderLineFactory(
        order=rma.order,
        line_number=1,
        quantity=quantity,
        unit_price=Decimal(price),
        tax=Decimal("3.20"),
    )
    RmaLineFactory(rma=rma, order_line=order_line, quantity=quantity, received_quantity=quantity)
    return rma


def resolve(rma, actor, outcome="REFUND"):
    [line_id] = rma.lines.values_list("pk", flat=True)
    rma_resolve(rma=rma, actor=actor, lines=[LineResolution(line_id, outcome)])


def event_types(rma):
    return list(RmaEvent.objects.filter(rma=rma).order_by("id").values_list("type", flat=True))


def test_resolve_refunds_through_stripe_after_commit(
    stripe_api, actor, django_capture_on_commit_callbacks
):
    intent = stripe_api.payment_intent(4318)
    rma = received_rma(intent=intent)
    with django_capture_on_commit_callbacks() as callbacks:
        resolve(rma, actor)
        # Nothing leaves before the resolve commits.
        assert not stripe_api.requests
        assert Refund.objects.get(rma=rma).status == RefundStatus.PENDING
    assert callbacks
    for callback in callbacks:
        callback()
    refund = Refund.objects.get(rma=rma)
    # 2 x 19.99 + 3.20 tax = 43.18, less the 4.95 return fee.
    assert (refund.status, refund.amount, refund.currency) == (
        RefundStatus.SUCCEEDED,
        Decimal("38.23"),
        "USD",
    )
    [call] = stripe_api.requests
    assert (call.params["payment_intent"], call.params["amount"]) == (intent, "3823")
    assert (
        call.idempotency_key
        == refund.idempotency_key
        == f"rma-refund-{rma.store.code}-{rma.rma_number}"
    )
    assert refund.provider_refund_id in stripe_api.refunds
    assert event_types(rma) == ["rma.resolved", "rma.refunded"]


def test_zero_decimal_currency_goes_in_whole_units(
    stripe_api, actor, django_capture_on_commit_callbacks
):
    intent = stripe_api.payment_intent(10_000, currency="jpy")
    rma = received_rma(intent=intent, price="1000", quantity=3, currency="JPY")
    with django_capture_on_commit_callbacks(execute=True):
        resolve(rma, actor)
    # 3000 + 3 (tax 3.20 rounds to 3) - 5 (4.95 rounds to 5) = 2998 yen.
    assert stripe_api.requests[0].params["amount"] == "2998"
    assert Refund.objects.get(rma=rma).amount == Decimal("2998")


def test_with_refund_service_none_no_refund_is_recorded(settings, actor):
    settings.REFUND_SERVICE = "none"
    rma = received_rma(intent="pi_123")
    resolve(rma, actor)
    assert not Refund.objects.exists()
    assert event_types(rma) == ["rma.resolved"]


def test_store_credit_makes_no_refund(stripe_api, actor, django_capture_on_commit_callbacks):
    rma = received_rma(intent=stripe_api.payment_intent(5000))
    with django_capture_on_commit_callbacks(execute=True):
        resolve(rma, actor, outcome="STORE_CREDIT")
    assert not Refund.objects.exists()
    assert not stripe_api.requests


def test_an_order_not_paid_through_stripe_goes_to_the_failed_queue(
    stripe_api, actor, django_capture_on_commit_callbacks
):
    rma = received_rma()
    with django_capture_on_commit_callbacks(execute=True):
        resolve(rma, actor)
    refund = Refund.objects.get(rma=rma)
    assert refund.status == RefundStatus.FAILED
    assert "not paid through stripe" in refund.failure_reason
    assert not stripe_api.requests
    assert event_types(rma) == ["rma.resolved", "rma.refund_failed"]


def test_transient_errors_are_retried_then_succeed(
    stripe_api, actor, django_capture_on_commit_callbacks
):
    stripe_api.then(Answer(500), Answer(429, "invalid_request_error", code="rate_limit"))
    rma = received_rma(intent=stripe_api.payment_intent(5000))
    with django_capture_on_commit_callbacks(execute=True):
        resolve(rma, actor)
    refund = Refund.objects.get(rma=rma)
    assert (refund.status, refund.attempts) == (RefundStatus.SUCCEEDED, 3)
    assert len(stripe_api.requests) == 3
    assert {call.idempotency_key for call in stripe_api.requests} == {refund.idempotency_key}
    assert len(stripe_api.refunds) == 1


def test_transient_errors_after_the_last_retry_fail_the_refund(
    stripe_api, actor, django_capture_on_commit_callbacks
):
    stripe_api.then(*[Answer(503)] * (REFUND_MAX_RETRIES + 1))
    rma = received_rma(intent=stripe_api.payment_intent(5000))
    with django_capture_on_commit_callbacks(execute=True):
        resolve(rma, actor)
    refund = Refund.objects.get(rma=rma)
    assert refund.status == RefundStatus.FAILED
    assert "after retries" in refund.failure_reason
    assert len(stripe_api.requests) == REFUND_MAX_RETRIES + 1
    assert not stripe_api.refunds


def test_a_permanent_error_fails_at_once(stripe_api, actor, django_capture_on_commit_callbacks):
    rma = received_rma(intent=stripe_api.payment_intent(100))  # less than the refund
    with django_capture_on_commit_callbacks(execute=True):
        resolve(rma, actor)
    refund = Refund.objects.get(rma=rma)
    assert refund.status == RefundStatus.FAILED
    assert "greater than unrefunded amount" in refund.failure_reason
    assert len(stripe_api.requests) == 1
    assert event_types(rma) == ["rma.resolved", "rma.refund_failed"]


def test_duplicate_tasks_refund_once(stripe_api, actor, django_capture_on_commit_callbacks):
    rma = received_rma(intent=stripe_api.payment_intent(5000))
    with django_capture_on_commit_callbacks(execute=True):
        resolve(rma, actor)
    refund = Refund.objects.get(rma=rma)
    for _ in range(3):
        execute_refund.delay(refund_id=refund.pk)
    assert len(stripe_api.requests) == 1
    assert event_types(rma).count("rma.refunded") == 1


def test_a_refund_claimed_by_a_live_worker_is_left_alone(stripe_api, actor):
    rma = received_rma(intent=stripe_api.payment_intent(5000))
    resolve(rma, actor)  # no on-commit callbacks run: the task was not executed
    refund = Refund.objects.get(rma=rma)
    Refund.objects.filter(pk=refund.pk).update(
        claimed_until=timezone.now() + dt.timedelta(minutes=1)
    )
    assert refund_execute(refund_id=refund.pk) is None
    assert not stripe_api.requests
    assert refund_claim_lapses_in(refund_id=refund.pk) > 0
    # A dead worker's claim lapses: the next attempt goes ahead with the same key.
    Refund.objects.filter(pk=refund.pk).update(
        claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert refund_execute(refund_id=refund.pk).status == RefundStatus.SUCCEEDED
    assert refund_claim_lapses_in(refund_id=refund.pk) is None


def test_fail_is_idempotent_and_an_agent_can_retry(
    stripe_api, actor, django_capture_on_commit_callbacks
):
    rma = received_rma(intent=stripe_api.payment_intent(5000))
    resolve(rma, actor)
    refund = Refund.objects.get(rma=rma)
    assert refund_fail(refund_id=refund.pk, reason="card issuer offline").status == "FAILED"
    assert refund_fail(refund_id=refund.pk, reason="again") is None
    with django_capture_on_commit_callbacks(execute=True):
        refund_retry(refund=refund, actor=actor)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert len(stripe_api.refunds) == 1


def test_the_sweeper_enqueues_refunds_left_pending(stripe_api, actor, settings):
    rma = received_rma(intent=stripe_api.payment_intent(5000))
    resolve(rma, actor)  # committed, never enqueued (the broker was down, say)
    refund = Refund.objects.get(rma=rma)
    assert sweep_refunds() == 0, "not stale yet"
    Refund.objects.filter(pk=refund.pk).update(
        updated_at=timezone.now() - dt.timedelta(seconds=settings.SWEEPER_GRACE_SECONDS + 1)
    )
    assert sweep_refunds() == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED

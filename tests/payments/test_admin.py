"""The agents' "refund failed" queue and the refund and store credit admin."""

from decimal import Decimal

import pytest

from payments.models import Refund, RefundStatus
from payments.services import store_credit_issue
from tests.factories import RmaFactory

pytestmark = pytest.mark.django_db


def refund_for(status, **fields):
    rma = RmaFactory(status="RESOLVED")
    return Refund.objects.create(
        rma=rma,
        service="stripe",
        amount=Decimal("10.00"),
        currency="USD",
        payment_intent="pi_1",
        idempotency_key=f"key-{rma.rma_number}",
        status=status,
        **fields,
    )


def test_refund_failed_queue_lists_only_failed_refunds(admin_client):
    failed = refund_for(RefundStatus.FAILED, failure_reason="card expired")
    succeeded = refund_for(RefundStatus.SUCCEEDED)
    without_refund = RmaFactory(status="RESOLVED")
    page = admin_client.get("/admin/rma/rma/", {"refund": "failed"}).content.decode()
    assert failed.rma.rma_number in page
    assert succeeded.rma.rma_number not in page
    assert without_refund.rma_number not in page
    assert "Refund failed" in admin_client.get("/admin/rma/rma/").content.decode()


def test_refund_admin_lists_failures_with_their_reason(admin_client):
    failed = refund_for(RefundStatus.FAILED, failure_reason="card expired")
    response = admin_client.get("/admin/payments/refund/", {"status__exact": "FAILED"})
    assert response.status_code == 200
    page = response.content.decode()
    assert failed.rma.rma_number in page
    assert "card expired" in page


def test_retry_action_sends_a_failed_refund_again(
    admin_client, stripe_api, django_capture_on_commit_callbacks
):
    refund = refund_for(RefundStatus.FAILED, failure_reason="timeout")
    Refund.objects.filter(pk=refund.pk).update(payment_intent=stripe_api.payment_intent(5000))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/payments/refund/",
            {"action": "retry_failed", "_selected_action": [refund.pk]},
            follow=True,
        )
    assert "1 refund sent again." in response.content.decode()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert len(stripe_api.refunds) == 1


def test_store_credit_admin_shows_the_ledger(admin_client):
    credit = store_credit_issue(store=RmaFactory().store, amount=Decimal("12.50"))
    page = admin_client.get(f"/admin/payments/storecredit/{credit.pk}/change/").content.decode()
    assert credit.code in page
    assert "Issued" in page

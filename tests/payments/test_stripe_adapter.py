"""The Stripe refund adapter: the official library against a local Stripe-like API."""

import socket

import pytest

from payments.adapters import (
    PermanentRefundError,
    RefundRequest,
    TransientRefundError,
    get_refund_service,
)
from payments.adapters.none import NoRefundService
from payments.adapters.stripe import StripeRefundService

from .stripe_server import API_KEY, Answer, Hold


def request(intent: str, amount: int = 1935, key: str = "rma-refund-TMSUS-R1") -> RefundRequest:
    return RefundRequest(
        rma_number="R1",
        store_code="TMSUS",
        order_id="3000179302",
        payment_intent=intent,
        amount_minor=amount,
        currency="USD",
        idempotency_key=key,
    )


def test_refund_is_created_for_the_payment_intent_in_minor_units(stripe_api):
    intent = stripe_api.payment_intent(5000)
    issued = StripeRefundService().refund(request(intent))
    [call] = stripe_api.requests
    assert call.path == "/v1/refunds"
    assert call.params == {
        "payment_intent": intent,
        "amount": "1935",
        "reason": "requested_by_customer",
        "metadata[rma_number]": "R1",
        "metadata[store]": "TMSUS",
        "metadata[order_id]": "3000179302",
    }
    assert call.idempotency_key == "rma-refund-TMSUS-R1"
    assert call.authorization == f"Bearer {API_KEY}"
    assert call.stripe_version, "the library names its API version"
    assert issued.provider_status == "succeeded"
    assert stripe_api.refunds[issued.provider_refund_id]["amount"] == 1935


def test_the_same_idempotency_key_never_refunds_twice(stripe_api):
    intent = stripe_api.payment_intent(5000)
    first = StripeRefundService().refund(request(intent))
    again = StripeRefundService().refund(request(intent))
    assert again.provider_refund_id == first.provider_refund_id
    assert len(stripe_api.refunds) == 1
    assert len(stripe_api.requests) == 2


@pytest.mark.parametrize(
    "answer",
    [
        Answer(500, "api_error"),
        Answer(503, "api_error"),
        Answer(429, "invalid_request_error", code="rate_limit"),
        Answer(409, "idempotency_error", code="idempotency_key_in_use"),
    ],
    ids=["500", "503", "429", "409-in-use"],
)
def test_transient_errors(stripe_api, answer):
    intent = stripe_api.payment_intent(5000)
    stripe_api.then(answer)
    with pytest.raises(TransientRefundError):
        StripeRefundService().refund(request(intent))
    assert not stripe_api.refunds


def test_permanent_errors_carry_stripes_message(stripe_api):
    intent = stripe_api.payment_intent(1000)
    with pytest.raises(PermanentRefundError) as refused:
        StripeRefundService().refund(request(intent, amount=1001))
    assert "greater than unrefunded amount" in str(refused.value)
    with pytest.raises(PermanentRefundError) as refused:
        StripeRefundService().refund(request("pi_unknown", key="other"))
    assert "No such payment_intent" in str(refused.value)


def test_a_reused_key_with_other_parameters_is_permanent(stripe_api):
    intent = stripe_api.payment_intent(5000)
    StripeRefundService().refund(request(intent))
    with pytest.raises(PermanentRefundError):
        StripeRefundService().refund(request(intent, amount=100))
    assert len(stripe_api.refunds) == 1


def test_a_wrong_api_key_is_permanent(stripe_api, settings):
    settings.STRIPE_API_KEY = "sk_test_wrong"
    with pytest.raises(PermanentRefundError) as refused:
        StripeRefundService().refund(request(stripe_api.payment_intent(5000)))
    assert "Invalid API Key" in str(refused.value)


def test_no_api_key_fails_the_refund_not_the_caller(stripe_api, settings):
    settings.STRIPE_API_KEY = ""
    service = get_refund_service()
    with pytest.raises(PermanentRefundError, match="STRIPE_API_KEY"):
        service.refund(request(stripe_api.payment_intent(5000)))
    assert not stripe_api.requests


def test_connection_refused_is_transient(stripe_api, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"
    with pytest.raises(TransientRefundError):
        StripeRefundService().refund(request("pi_x"))


def test_a_timeout_is_transient(stripe_api, settings):
    settings.STRIPE_TIMEOUT = 0.2
    # Stripe keeps its answer until released: only the client's timeout can end the wait.
    stripe_api.then(Hold())
    try:
        with pytest.raises(TransientRefundError, match="Stripe unavailable"):
            StripeRefundService().refund(request(stripe_api.payment_intent(5000)))
        stripe_api.wait_for_requests(1)  # it reached Stripe, which never answered
    finally:
        stripe_api.release()


def test_the_service_is_chosen_by_setting(settings, stripe_api):
    assert isinstance(get_refund_service(), StripeRefundService)
    settings.REFUND_SERVICE = "none"
    service = get_refund_service()
    assert isinstance(service, NoRefundService)
    assert not service.executes_refunds
    settings.REFUND_SERVICE = "paypal"
    with pytest.raises(Exception, match="Unknown REFUND_SERVICE"):
        get_refund_service()


def test_stripe_api_base_cannot_reach_private_addresses(stripe_api, settings):
    settings.ALLOW_PRIVATE_OUTBOUND = False
    with pytest.raises(PermanentRefundError, match="Address not allowed"):
        StripeRefundService().refund(request(stripe_api.payment_intent(5000)))
    assert not stripe_api.requests

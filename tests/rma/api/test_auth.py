"""The `apikey` header: every way of not having a valid key gets the very same 401."""

import pytest

from rma.apikeys import api_key_create, api_key_revoke
from rma.models import Rma
from tests.factories import StoreFactory
from tests.rma.api.conftest import FORMATS, rma_body

pytestmark = pytest.mark.django_db

OPERATIONS = ["checkEligibility", "generateRMA", "lookupRMA"]


@pytest.fixture
def bad_keys(store, raw_key):
    revoked, revoked_raw = api_key_create(store=store, name="old")
    api_key_revoke(api_key=revoked)
    _, foreign_raw = api_key_create(store=StoreFactory(code="OTHER"), name="OMS")
    return {
        "missing": None,
        "empty": "",
        "wrong": raw_key[:-4] + "AAAA",
        "garbage": "not-a-key",
        "revoked": revoked_raw,
        "other-store": foreign_raw,
    }


def comparable(reply) -> tuple:
    """What a caller can observe, less the timestamp and the request id."""
    fault = reply.fault()
    fault.pop("createTimestamp")
    headers = {
        name: value
        for name, value in reply.headers.items()
        if name not in ("X-Request-ID", "Content-Length")
    }
    return reply.status, fault, headers


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_bad_key_gets_the_same_401(api, order, bad_keys, fmt, operation):
    body = rma_body(order, (1, 1)) if operation == "generateRMA" else {}
    replies = {
        name: api.call(operation, fmt, body, order_id=order.order_id, key=key)
        for name, key in bad_keys.items()
    }
    observed = {name: comparable(reply) for name, reply in replies.items()}
    first = observed["missing"]
    assert first[0] == 401
    assert first[1] == {"code": "401", "description": "Unauthorized"}
    assert all(value == first for value in observed.values()), observed
    assert not Rma.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_key_is_checked_before_the_body(api, order, fmt):
    reply = api.call("generateRMA", fmt, b"{{{ not even close", order_id=order.order_id, key=None)
    assert reply.status == 401


@pytest.mark.parametrize("fmt", FORMATS)
def test_store_is_resolved_before_the_key(api, fmt):
    reply = api.call("lookupRMA", fmt, {}, order_id="1", store_code="NOPE", key="wrong")
    assert reply.status == 404
    assert reply.fault()["code"] == "RMA 1002"


@pytest.mark.parametrize("fmt", FORMATS)
def test_valid_key_of_the_store_is_accepted_and_its_use_recorded(api, order, fmt):
    reply = api.call("checkEligibility", fmt, order_id=order.order_id, method="get")
    assert reply.status == 200
    assert api.store.api_keys.get(name="OMS").last_used_at is not None

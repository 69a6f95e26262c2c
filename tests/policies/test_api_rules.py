"""Store rules through the RMA service API: 1024 in checkEligibility and generateRMA."""

import pytest

from rma.models import Rma, RmaStatus
from tests.rma.api.conftest import FORMATS, api, order, raw_key, rma_body, store  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

BLOCK_API_CHANGED_MIND = {
    "name": "No changed minds by API",
    "when": [
        {"field": "channel", "op": "in", "value": ["API"]},
        {"field": "reason", "op": "in", "value": ["CHANGED_MIND"]},
    ],
    "then": [{"action": "block", "message": "Ask the shop"}],
}


@pytest.fixture
def ruled(store):  # noqa: F811
    store.policy = {
        "rules": [
            BLOCK_API_CHANGED_MIND,
            {
                "name": "Line 2 blocked",
                "when": [{"field": "item", "op": "in", "value": ["SKU-2"]}],
                "then": [{"action": "block", "message": "Not that one"}],
            },
        ]
    }
    store.save()
    return store


@pytest.mark.parametrize("fmt", FORMATS)
def test_generate_rma_refuses_a_blocked_line_with_1024(api, order, ruled, fmt):  # noqa: F811
    reply = api.call(
        "generateRMA", fmt, rma_body(order, (1, 1, "CHANGED_MIND")), order_id=order.order_id
    )
    assert reply.status == 422
    fault = reply.fault()
    assert fault["code"] == "RMA 1024"
    assert fault["description"] == "Return blocked by store rule"
    assert not Rma.objects.exists()
    reply = api.call(
        "generateRMA",
        fmt,
        rma_body(order, (1, 1, "TOO_SMALL"), transaction_id="t2"),
        order_id=order.order_id,
    )
    assert reply.status == 201
    assert Rma.objects.get().status == RmaStatus.AUTHORIZED


def test_check_eligibility_reports_1024_as_overridable(api, order, ruled):  # noqa: F811
    reply = api.call("checkEligibility", "json", order_id=order.order_id, method="get")
    items = {item["lineNumber"]: item for item in reply.data()["items"]["item"]}
    assert items["1"]["eligible"] is True  # the reason is not known before the request
    assert items["2"]["ineligibility"] == [
        {"code": "RMA 1024", "description": "Return blocked by store rule", "overridable": True}
    ]


def test_check_eligibility_knows_its_channel(api, order, store):  # noqa: F811
    store.policy = {
        "rules": [
            {
                "name": "No API returns",
                "when": [{"field": "channel", "op": "in", "value": ["API"]}],
                "then": [{"action": "block", "message": "Use the portal"}],
            }
        ]
    }
    store.save()
    reply = api.call("checkEligibility", "json", order_id=order.order_id, method="get")
    codes = [
        [entry["code"] for entry in item["ineligibility"]] for item in reply.data()["items"]["item"]
    ]
    assert codes == [["RMA 1024"], ["RMA 1024"]]

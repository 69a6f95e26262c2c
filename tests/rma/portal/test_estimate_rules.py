"""The order page's estimate applies the store rules as the request will (with the reason
chosen), and the confirmation and status pages show what the request stored."""

import pytest
from django.urls import reverse
from lxml import html

from rma.links import status_path
from rma.models import Rma

from .conftest import order_path

pytestmark = pytest.mark.django_db

FEE = {"amount": "4.95", "waived_for_resolutions": [], "waived_when_seller_fault": True}
CHANGED_MIND = {
    "name": "Too small: $9 fee",
    "when": [{"field": "reason", "op": "in", "value": ["TOO_SMALL"]}],
    "then": [{"action": "set_return_fee", "amount": "9.00"}],
}


@pytest.fixture
def ruled_store(store):
    store.policy = {**store.policy, "return_fee": FEE, "rules": [CHANGED_MIND]}
    store.save()
    return store


def amounts(response) -> list[str]:
    page = html.fromstring(response.content)
    return [e.get("data-amount") for e in page.xpath('//*[@data-testid="refund-estimate"]')]


CHOSEN = {
    "line-1-selected": "on",
    "line-1-quantity": "1",
    "line-1-reason": "TOO_SMALL",
    "resolution": "REFUND",
}


def test_the_rules_fee_is_estimated_before_submit_and_kept_after(
    granted_client, order, ruled_store
):
    url = reverse(
        "portal:estimate", kwargs={"store_code": order.store.code, "order_id": order.order_id}
    )
    # 39.99 less the rule's $9.00 (the policy's fee would be 4.95).
    assert amounts(granted_client.post(url, CHOSEN)) == ["30.99"]
    assert amounts(granted_client.post(order_path(order), {**CHOSEN, "action": "estimate"})) == [
        "30.99"
    ]

    confirmation = granted_client.post(order_path(order), CHOSEN, follow=True)

    assert amounts(confirmation) == ["30.99"]
    rma = Rma.objects.get()
    assert rma.rule_decisions[0]["amount"] == "9.00"
    assert amounts(granted_client.get(status_path(rma))) == ["30.99"]

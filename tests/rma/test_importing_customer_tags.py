"""`customer.tags` in the order import format: checked, stored on the order, exported back, and
read by store rules on `customer_tag` (here a rule that waives the return fee)."""

import datetime as dt

import pytest
from django.utils import timezone

from rma.estimates import rma_estimates
from rma.importing import ImportValidationError, import_document, import_order, order_document
from rma.models import Order, Store
from rma.selectors import rmas_with_lines
from rma.services.actors import Actor
from rma.services.rma_request import RequestedLine, rma_request
from tests.factories import import_order_data, spec_import_document

pytestmark = pytest.mark.django_db

VIP_NO_FEE = {
    "name": "VIP: no fee",
    "when": [{"field": "customer_tag", "op": "in", "value": ["VIP"]}],
    "then": [{"action": "waive_return_fee"}],
}


def document(*tag_lists) -> dict:
    """The reference store (a $4.95 fee, the VIP rule) with one recent order per tag list."""
    doc = spec_import_document()
    doc["stores"][0]["policy"] |= {
        "return_fee": {"amount": "4.95", "waived_for_resolutions": []},
        "rules": [VIP_NO_FEE],
    }
    delivered = (timezone.now() - dt.timedelta(days=2)).isoformat()
    doc["orders"] = [
        import_order_data(
            f"30001793{index:02d}",
            delivered_at=delivered,
            customer={"email": "ada@example.com", "name": "Ada", "tags": tags},
        )
        for index, tags in enumerate(tag_lists)
    ]
    return doc


def refused(doc) -> list[str]:
    with pytest.raises(ImportValidationError) as raised:
        import_document(doc)
    return raised.value.errors


def request(order):
    (rma,) = rma_request(
        order=order,
        lines=[RequestedLine(1, 1, "TOO_SMALL")],
        resolution="REFUND",
        actor=Actor.shopper(order.customer_email),
        channel="PORTAL",
    )
    return rmas_with_lines().get(pk=rma.pk)


def test_tags_are_stored_and_a_customer_tag_rule_decides_the_request():
    import_document(document([" vip ", "wholesale"], ["wholesale"]))
    vip, other = Order.objects.order_by("order_id")
    assert vip.customer_tags == [" vip ", "wholesale"]

    rma = request(vip)
    assert rma.rule_decisions == [
        {"line_number": 1, "action": "waive_return_fee", "rule": "VIP: no fee", "amount": "0.00"}
    ]
    assert rma_estimates([rma])[rma.pk].return_fee == 0
    # Without the tag the policy's fee is charged.
    rma = request(other)
    assert rma.rule_decisions == []
    assert str(rma_estimates([rma])[rma.pk].return_fee) == "4.95"


def test_tags_are_optional_and_a_reimport_replaces_them():
    doc = document(["vip"])
    import_document(doc)
    doc["orders"][0]["customer"].pop("tags")
    result = import_document(doc)

    assert result.orders.updated == 1
    assert Order.objects.get().customer_tags == []


def test_the_export_gives_the_tags_back():
    import_document(document(["vip"], []))
    vip, untagged = Order.objects.order_by("order_id")
    assert order_document(vip)["customer"]["tags"] == ["vip"]
    assert "tags" not in order_document(untagged)["customer"]


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ("vip", "customer.tags: must be a list, not a string"),
        (["vip", ""], "customer.tags[1]: must not be empty"),
        (["vip", 7], "customer.tags[1]: must be a string, not a number"),
        (["two\nlines"], "customer.tags[0]: must be a single line, without line breaks"),
        (["x" * 51], "customer.tags[0]: must be at most 50 characters"),
        (["vip", "vip"], 'customer.tags: "vip" is listed more than once'),
        ([f"tag{n}" for n in range(21)], "customer.tags: must have at most 20 tags"),
    ],
)
def test_bad_tags_are_refused_naming_the_key_and_nothing_is_written(tags, message):
    errors = refused(document(tags))

    assert errors == [f"orders[0].{message} (order TMSUS 3000179300)"]
    assert not Order.objects.exists()


def test_the_order_endpoints_reader_takes_tags_too():
    import_document(document())
    store = Store.objects.get(code="TMSUS")
    data = import_order_data("3000179399", customer={"email": "bo@example.com", "tags": ["vip"]})
    order, created = import_order(store=store, order_id="3000179399", data=data)
    assert created and order.customer_tags == ["vip"]

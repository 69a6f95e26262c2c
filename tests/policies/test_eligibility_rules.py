"""Store rules inside eligibility and the request service; reasons that fit each line."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rma.eligibility import can_override, evaluate_order
from rma.errors import RequestError, RmaError
from rma.models import Rma, RmaEvent, RmaStatus
from rma.selectors import order_for_eligibility
from rma.services.actors import Actor
from rma.services.rma_request import RequestedLine, rma_request
from tests.factories import (
    EligibilityOverrideFactory,
    OrderFactory,
    OrderLineFactory,
    RmaFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db


def rule(name, when, then):
    return {"name": name, "when": when, "then": then}


def make_order(*, rules=(), reasons=None, price="39.99", department="Accessories", **order):
    policy = {"rules": list(rules)}
    if reasons is not None:
        policy["reasons"] = reasons
    store = StoreFactory(policy=policy)
    order = OrderFactory(store=store, **order)
    OrderLineFactory(
        order=order, line_number=1, unit_price=Decimal(price), quantity=1, department=department
    )
    return order


def verdicts(order, **kwargs):
    fresh = order_for_eligibility(store=order.store, order_id=order.order_id)
    return evaluate_order(fresh, now=timezone.now(), **kwargs)


def request(order, reason="TOO_SMALL", channel="PORTAL"):
    return rma_request(
        order=order,
        lines=[RequestedLine(1, 1, reason)],
        resolution="REFUND",
        actor=Actor.shopper(order.customer_email),
        channel=channel,
    )


BIG_ORDERS_REVIEWED = rule(
    "Orders over $200: review",
    [{"field": "order_total", "op": "gt", "value": "200"}],
    [{"action": "require_review"}],
)


def test_require_review_rule_leaves_the_rma_requested_and_names_the_rule():
    order = make_order(rules=[BIG_ORDERS_REVIEWED], price="250.00")
    [rma] = request(order)
    assert rma.status == RmaStatus.REQUESTED
    created = rma.events.get(type="rma.created")
    assert created.data["rules"] == [
        {"line_number": 1, "decisions": ["review required (Orders over $200: review)"]}
    ]


def test_below_the_threshold_the_rma_is_authorized():
    order = make_order(rules=[BIG_ORDERS_REVIEWED], price="150.00")
    [rma] = request(order)
    assert rma.status == RmaStatus.AUTHORIZED
    assert "rules" not in rma.events.get(type="rma.created").data


def test_block_rule_is_rma_1024_on_the_line_with_the_rule_named():
    order = make_order(
        rules=[
            rule(
                "No mugs",
                [{"field": "department", "op": "in", "value": ["Mugs"]}],
                [{"action": "block", "message": "Mugs are final"}],
            )
        ],
        department="Mugs",
    )
    [verdict] = verdicts(order)
    assert verdict.codes == ("RMA 1024",)
    assert verdict.decision.block.rule == "No mugs"
    with pytest.raises(RmaError) as raised:
        request(order)
    assert raised.value.code == "RMA 1024"
    assert not Rma.objects.exists() and not RmaEvent.objects.exists()


def test_a_supervisor_override_removes_1024():
    order = make_order(
        rules=[rule("Block all", [], [{"action": "block", "message": "Closed"}])],
    )
    EligibilityOverrideFactory(order_line=order.lines.get(), code="RMA 1024")
    [verdict] = verdicts(order)
    assert verdict.eligible
    assert [r.code for r in verdict.overridden] == ["RMA 1024"]
    [rma] = request(order)
    assert rma.status == RmaStatus.AUTHORIZED


class Perms:
    def __init__(self, *perms):
        self.perms = perms

    def has_perm(self, perm):
        return perm in self.perms


def test_only_supervisors_may_override_1024():
    assert can_override(Perms("rma.override_any_ineligibility"), "RMA 1024")
    assert not can_override(Perms("rma.override_ineligibility"), "RMA 1024")


def test_a_block_on_a_reason_applies_when_the_reason_is_chosen():
    order = make_order(
        rules=[
            rule(
                "No changed minds over $100",
                [
                    {"field": "reason", "op": "in", "value": ["CHANGED_MIND"]},
                    {"field": "line_amount", "op": "gt", "value": "100"},
                ],
                [{"action": "block", "message": "Please contact us"}],
            )
        ],
        price="120.00",
    )
    assert verdicts(order)[0].eligible  # no reason yet on the order page
    with pytest.raises(RmaError) as raised:
        request(order, reason="CHANGED_MIND")
    assert raised.value.code == "RMA 1024"
    [rma] = request(order, reason="TOO_SMALL")
    assert rma.status == RmaStatus.AUTHORIZED


def test_extend_window_rule_makes_a_late_line_eligible():
    delivered = timezone.now() - dt.timedelta(days=40)
    late = {"delivered_at": delivered, "shipped_at": delivered, "placed_at": delivered}
    plain = make_order(**late)
    assert verdicts(plain)[0].codes == ("RMA 1006",)
    extended = make_order(
        rules=[rule("Holidays", [], [{"action": "extend_window", "days": 30}])], **late
    )
    [verdict] = verdicts(extended)
    assert verdict.eligible
    assert verdict.decision.extend_window.rule == "Holidays"


def test_return_count_rule_counts_the_customers_returns_at_the_store():
    serial = rule(
        "Serial returner",
        [{"field": "return_count", "op": "gte", "value": 2, "days": 30}],
        [{"action": "require_review"}],
    )
    order = make_order(rules=[serial])
    other = OrderFactory(store=order.store, customer_email="ADA@example.com")
    RmaFactory(order=other)
    assert not verdicts(order)[0].decision.requires_review
    RmaFactory(order=other)
    # Another store's returns and another customer's do not count.
    RmaFactory(order=OrderFactory(customer_email="ada@example.com"))
    RmaFactory(order=OrderFactory(store=order.store, customer_email="bob@example.com"))
    assert verdicts(order)[0].decision.requires_review


def test_channel_rule_decides_in_the_request():
    order = make_order(
        rules=[
            rule(
                "API reviewed",
                [{"field": "channel", "op": "in", "value": ["API"]}],
                [{"action": "require_review"}],
            )
        ]
    )
    [rma] = request(order, channel="API")
    assert rma.status == RmaStatus.REQUESTED


MUG_REASONS = [
    {"code": "FIT", "description": "Fit", "category": "Size", "departments": ["Apparel"]},
    {
        "code": "TOO_SMALL",
        "description": "Too small",
        "category": "Size",
        "parent": "FIT",
        "departments": ["Apparel"],
    },
    {"code": "DEFECTIVE", "description": "Broken", "category": "Quality", "seller_fault": True},
]


def test_a_reason_that_does_not_fit_the_line_is_refused():
    order = make_order(reasons=MUG_REASONS, department="Mugs")
    with pytest.raises(RequestError) as raised:
        request(order, reason="TOO_SMALL")
    assert raised.value.field == "line-1-reason"
    assert "does not apply to line 1 (Mugs)" in raised.value.message
    assert not Rma.objects.exists()
    [rma] = request(order, reason="DEFECTIVE")
    assert rma.lines.get().reason_code == "DEFECTIVE"


def test_portal_order_page_offers_only_the_reasons_that_fit_each_line(client):
    order = make_order(reasons=MUG_REASONS, department="Mugs")
    OrderLineFactory(order=order, line_number=2, department="apparel", quantity=1)
    OrderLineFactory(order=order, line_number=3, department="MUGS", quantity=1)
    response = client.post(
        reverse("portal:lookup"), {"order_number": order.order_id, "contact": "ada@example.com"}
    )
    assert response.status_code == 302
    path = reverse(
        "portal:order", kwargs={"store_code": order.store.code, "order_id": order.order_id}
    )
    with CaptureQueriesContext(connection) as three_lines:
        html = client.get(path).content.decode()
    mug, apparel = html.split('name="line-1-reason"')[1], html.split('name="line-2-reason"')[1]
    mug, apparel = mug.split("</select>")[0], apparel.split("</select>")[0]
    assert 'value="TOO_SMALL"' not in mug
    assert '<optgroup label="Quality"><option value="DEFECTIVE">Broken</option>' in mug
    assert '<option value="TOO_SMALL">Fit: Too small</option>' in apparel
    assert '<optgroup label="Size">' in apparel
    # More lines (and departments) do not add queries.
    for number in range(4, 9):
        OrderLineFactory(order=order, line_number=number, department=f"D{number}", quantity=1)
    with CaptureQueriesContext(connection) as eight_lines:
        client.get(path)
    assert len(eight_lines) == len(three_lines)


def test_reason_options_per_department():
    from rma.policy import StorePolicy

    policy = StorePolicy({"reasons": MUG_REASONS})
    assert [r.code for r in policy.reasons_for_department("mugs ")] == ["DEFECTIVE"]
    assert [r.code for r in policy.reasons_for_department("Apparel")] == [
        "FIT",
        "TOO_SMALL",
        "DEFECTIVE",
    ]


def test_the_order_page_shows_the_rules_message_with_1024(client):
    order = make_order(
        rules=[rule("Mugs final", [], [{"action": "block", "message": "Mugs are final sale."}])]
    )
    client.post(
        reverse("portal:lookup"), {"order_number": order.order_id, "contact": "ada@example.com"}
    )
    path = reverse(
        "portal:order", kwargs={"store_code": order.store.code, "order_id": order.order_id}
    )
    html = client.get(path).content.decode()
    assert (
        'data-testid="ineligibility-reason" data-code="RMA 1024">Mugs are final sale. '
        '<small class="code">(reason code 1024)</small>'
    ) in html
    assert "RMA 1024" in html


def test_the_order_page_knows_it_is_the_portal(client):
    order = make_order(
        rules=[
            rule(
                "Portal closed",
                [{"field": "channel", "op": "in", "value": ["PORTAL"]}],
                [{"action": "block", "message": "Call us to return this."}],
            )
        ]
    )
    client.post(
        reverse("portal:lookup"), {"order_number": order.order_id, "contact": "ada@example.com"}
    )
    path = reverse(
        "portal:order", kwargs={"store_code": order.store.code, "order_id": order.order_id}
    )
    assert "Call us to return this." in client.get(path).content.decode()
    assert verdicts(order)[0].eligible  # another channel: the rule does not apply

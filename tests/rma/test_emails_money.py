"""Money in the emails: the estimate in the confirmation, the outcome in the resolved email
(per line and in total, a line not received explained), amounts in the shopper's language,
in the HTML and the text part."""

from decimal import Decimal

import pytest
from django.utils import translation

from rma.emails import build_email
from rma.models import Notification, RmaStatus
from rma.selectors import rmas_with_lines
from rma.services.actors import Actor
from rma.services.rma_receive import ReceivedLine, rma_receive
from rma.services.rma_request import RequestedLine, rma_request
from rma.services.rma_resolve import LineResolution, rma_resolve
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory

pytestmark = pytest.mark.django_db

FEE = {"amount": "4.95", "waived_for_resolutions": [], "waived_when_seller_fault": True}


@pytest.fixture
def order():
    store = StoreFactory(policy={"return_fee": FEE, "store_credit_bonus_percent": "10"})
    order = OrderFactory(store=store)
    OrderLineFactory(order=order, line_number=1, title="Rain jacket", unit_price=Decimal("39.99"))
    OrderLineFactory(order=order, line_number=2, title="Scarf", quantity=1, unit_price="20.00")
    return order


def requested(order, resolution="REFUND"):
    (rma,) = rma_request(
        order=order,
        lines=[RequestedLine(1, 2, "TOO_SMALL"), RequestedLine(2, 1, "TOO_SMALL")],
        resolution=resolution,
        actor=Actor.shopper(order.customer_email),
        channel="PORTAL",
    )
    return rma


def email_for(rma, kind, language="en"):
    notification = Notification(kind=kind, recipient="ada@example.com", rma=rma, language=language)
    with translation.override(language):
        message = build_email(notification, list(rmas_with_lines().filter(pk=rma.pk)))
    return message.body, message.alternatives[0][0]


def resolved(rma, outcome="REFUND"):
    lines = list(rma.lines.order_by("order_line__line_number"))
    rma_receive(
        rma=rma,
        actor=Actor.system("test"),
        lines=[
            ReceivedLine(lines[0].pk, 2, "AS_NEW", "RESTOCK"),
            ReceivedLine(lines[1].pk, 0, "AS_NEW", "RESTOCK"),
        ],
    )
    rma_resolve(
        rma=rma,
        actor=Actor.system("test"),
        lines=[LineResolution(line.pk, outcome) for line in lines],
    )
    rma.refresh_from_db()
    assert rma.status == RmaStatus.RESOLVED
    return rma


def test_the_confirmation_carries_the_itemised_estimate(order):
    text, html = email_for(requested(order), "confirmation")

    for part in (text, html):
        assert "What you get back (estimate)" in part
        assert "$99.98" in part  # subtotal: 79.98 + 20.00
        assert "$4.95" in part  # the return fee
        assert "$95.03" in part  # the total
    assert "Total: $95.03" in text


def test_the_estimate_in_german(order):
    text, html = email_for(requested(order), "confirmation", language="de")

    for part in (text, html):
        assert "Was Sie zurückbekommen (Schätzung)" in part
        assert "95,03\xa0$" in part
        assert "95.03" not in part


def test_the_resolved_email_shows_the_outcome_and_a_line_not_received(order):
    rma = resolved(requested(order))

    text, html = email_for(rma, "resolved")

    # 79.98 received, less the 4.95 return fee; the scarf never arrived.
    assert "2 \N{MULTIPLICATION SIGN} Rain jacket: Refunded $75.03" in text
    not_received = "Not received: nothing was refunded for this item."
    assert f"1 \N{MULTIPLICATION SIGN} Scarf: {not_received}" in text
    assert "Return fee (already taken from the amounts above): $4.95" in text
    assert "Total: $75.03" in text
    assert "Refund 0.00" not in text and "$0.00" not in text
    assert "Refunded $75.03" in html and "Not received" in html
    assert "What you get back (estimate)" not in text  # the outcome replaces it


def test_the_resolved_email_names_the_store_credit_code_in_german(order):
    rma = resolved(requested(order, resolution="STORE_CREDIT"), outcome="STORE_CREDIT")
    (line, _) = rma.lines.order_by("order_line__line_number")

    text, html = email_for(rma, "resolved", language="de")

    # 79.98 + 10 % bonus (8.00), less the 4.95 fee.
    assert f"Guthaben 83,03\xa0$, Code {line.store_credit_code}" in text
    assert "Nicht erhalten" in text
    assert "Gesamt: 83,03\xa0$" in text
    assert line.store_credit_code in html


def test_a_request_whose_items_are_all_kept_says_so_first(order):
    order.store.policy = {**order.store.policy, "keep_item_below": "50.00"}
    order.store.save()

    text, html = email_for(requested(order), "confirmation")

    for part in (text, html):
        assert "you can keep the items, there is nothing to send back" in part
        assert "attach the return label" not in part

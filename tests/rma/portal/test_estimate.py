"""The estimate on the order page (without and with JavaScript), on the confirmation and
status pages; keep-the-item; the outcome once resolved; amounts in the shopper's language."""

from decimal import Decimal

import pytest
from django.urls import reverse
from lxml import html

from rma.links import status_path
from rma.models import LabelStatus, Rma, RmaStatus
from rma.services.actors import Actor
from rma.services.rma_receive import ReceivedLine, rma_receive
from rma.services.rma_resolve import LineResolution, rma_resolve
from tests.factories import OrderLineFactory

from .conftest import order_path

pytestmark = pytest.mark.django_db

FEE = {"amount": "4.95", "waived_for_resolutions": [], "waived_when_seller_fault": True}


@pytest.fixture
def money_store(store):
    store.policy = {
        **store.policy,
        "return_fee": FEE,
        "store_credit_bonus_percent": "10",
        "keep_item_below": "8.00",
    }
    store.save()
    return store


def page_of(response):
    return html.fromstring(response.content)


def by_testid(page, name: str) -> list:
    return page.xpath(f'//*[@data-testid="{name}"]')


def text(element) -> str:
    return " ".join(element.text_content().split())


def estimate_of(response):
    (estimate,) = by_testid(page_of(response), "refund-estimate")
    return estimate


def chosen(**extra) -> dict:
    return {
        "line-1-selected": "on",
        "line-1-quantity": "2",
        "line-1-reason": "TOO_SMALL",
        "resolution": "REFUND",
        **extra,
    }


def test_a_fresh_order_page_has_an_empty_estimate_and_both_buttons(granted_client, order):
    response = granted_client.get(order_path(order))

    estimate = estimate_of(response)
    assert estimate.get("data-amount") == "0.00"
    page = page_of(response)
    buttons = [text(button) for button in page.xpath("//form//button")]
    assert "Update estimate" in buttons and "Request return" in buttons
    (form,) = page.xpath("//form[@data-estimate-url]")
    assert form.get("data-estimate-url").endswith("/estimate/")


def test_update_estimate_shows_the_itemised_estimate_and_requests_nothing(
    granted_client, order, money_store
):
    response = granted_client.post(order_path(order), chosen(action="estimate"))

    assert response.status_code == 200
    assert not Rma.objects.exists()
    estimate = estimate_of(response)
    # 2 x 39.99 paid, the return fee once.
    assert estimate.get("data-amount") == "75.03"
    shown = text(estimate)
    assert "$79.98" in shown and "$4.95" in shown and "$75.03" in shown
    assert "Laptop case" in shown
    # The choices stay as they were, with no error shown.
    page = page_of(response)
    assert page.get_element_by_id("id_line-1-selected").get("checked") is not None
    assert not page.xpath("//*[@data-error-summary]")


def test_store_credit_has_its_bonus_and_no_fee(granted_client, order, money_store):
    response = granted_client.post(
        order_path(order), chosen(action="estimate", resolution="STORE_CREDIT")
    )

    estimate = estimate_of(response)
    # 79.98 + 10 % (8.00), less the fee (this store does not waive it for store credit).
    assert estimate.get("data-amount") == "83.03"
    assert "$8.00" in text(estimate)


def test_the_estimate_endpoint_renders_the_fragment_the_script_shows(
    granted_client, order, money_store
):
    url = reverse(
        "portal:estimate", kwargs={"store_code": order.store.code, "order_id": order.order_id}
    )

    response = granted_client.post(url, chosen(**{"line-1-quantity": "1"}))

    assert response.status_code == 200
    assert estimate_of(response).get("data-amount") == "35.04"
    assert granted_client.get(url).status_code == 405


def test_the_estimate_endpoint_needs_the_grant(client, order):
    url = reverse(
        "portal:estimate", kwargs={"store_code": order.store.code, "order_id": order.order_id}
    )
    assert client.post(url, chosen()).status_code == 404


def test_out_of_range_quantities_are_not_estimated(granted_client, order):
    response = granted_client.post(
        order_path(order), chosen(action="estimate", **{"line-1-quantity": "9"})
    )
    assert estimate_of(response).get("data-amount") == "0.00"


def test_the_estimate_is_in_the_shoppers_language(granted_client, order, money_store):
    response = granted_client.post(
        order_path(order), chosen(action="estimate"), HTTP_ACCEPT_LANGUAGE="de"
    )

    shown = estimate_of(response).text_content()
    assert "75,03\xa0$" in shown
    assert "Gesamt" in shown


def test_confirmation_and_status_pages_show_the_estimate(granted_client, order, money_store):
    response = granted_client.post(order_path(order), chosen(), follow=True)

    assert estimate_of(response).get("data-amount") == "75.03"
    rma = Rma.objects.get()
    status = granted_client.get(status_path(rma))
    assert estimate_of(status).get("data-amount") == "75.03"


def test_kept_items_are_resolved_at_once_and_the_shopper_told_to_keep_them(
    granted_client, order, money_store, mailoutbox, django_capture_on_commit_callbacks
):
    OrderLineFactory(order=order, line_number=3, title="Socks", quantity=1, unit_price="5.00")

    with django_capture_on_commit_callbacks(execute=True):
        response = granted_client.post(
            order_path(order),
            chosen(
                **{"line-3-selected": "on", "line-3-quantity": "1", "line-3-reason": "TOO_SMALL"}
            ),
            follow=True,
        )

    kept, sent = Rma.objects.order_by("id")
    assert (kept.status, kept.label_status) == (RmaStatus.RESOLVED, LabelStatus.NOT_REQUIRED)
    assert kept.received_at is None
    assert [line.refund_amount for line in kept.lines.all()] == [Decimal("5.00")]
    assert sent.status == RmaStatus.AUTHORIZED
    page = page_of(response)
    assert len(by_testid(page, "keep-items")) == 1
    # The request's estimate, then each RMA's: the fee only on the RMA sent back.
    amounts = [e.get("data-amount") for e in by_testid(page, "refund-estimate")]
    assert amounts == ["80.03", "5.00", "75.03"]
    (email,) = mailoutbox
    assert "no need to send" in email.body
    assert "$5.00" in email.body and "$75.03" in email.body
    html_part = email.alternatives[0][0]
    assert "Keep the items" in html_part and "$75.03" in html_part


def receive_and_resolve(rma, *received):
    lines = list(rma.lines.order_by("order_line__line_number"))
    rma_receive(
        rma=rma,
        actor=Actor.system("test"),
        lines=[
            ReceivedLine(line.pk, quantity, "AS_NEW", "RESTOCK")
            for line, quantity in zip(lines, received, strict=True)
        ],
    )
    return rma_resolve(
        rma=rma,
        actor=Actor.system("test"),
        lines=[LineResolution(line.pk, "REFUND") for line in lines],
    )


def test_the_resolved_status_page_shows_the_outcome(granted_client, order, money_store):
    OrderLineFactory(order=order, line_number=3, title="Scarf", quantity=1, unit_price="20.00")
    granted_client.post(
        order_path(order),
        chosen(**{"line-3-selected": "on", "line-3-quantity": "1", "line-3-reason": "TOO_SMALL"}),
    )
    rma = Rma.objects.get()
    receive_and_resolve(rma, 2, 0)

    response = granted_client.get(status_path(rma))

    (outcome,) = by_testid(page_of(response), "return-outcome")
    lines = [text(line) for line in outcome.xpath('.//*[@data-testid="outcome-line"]')]
    assert lines[0].startswith("2 \u00d7 Laptop case") and "Refunded $75.03" in lines[0]
    assert "Not received" in lines[1] and "0.00" not in lines[1]
    assert outcome.get("data-amount") == "75.03"
    assert "$4.95" in text(outcome)  # the return fee

"""The estimate in headless Chromium: before submit with and without JavaScript, on the
confirmation and status pages, the outcome once resolved; axe-core clean at phone and
desktop widths (screenshots in test-artifacts/screenshots/)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from rma.links import status_path
from rma.models import Rma, RmaStatus
from rma.services.actors import Actor
from rma.services.rma_receive import ReceivedLine, rma_receive
from rma.services.rma_resolve import LineResolution, rma_resolve
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory

from .test_browser import Shopper

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLICY = {
    "resolutions": ["REFUND", "STORE_CREDIT"],
    "return_fee": {"amount": "4.95", "waived_for_resolutions": ["STORE_CREDIT"]},
    "store_credit_bonus_percent": "10",
    "keep_item_below": "8.00",
}


@pytest.fixture
def order(transactional_db):
    store = StoreFactory(code="TMSUS", name="The Model Store", policy=POLICY)
    order = OrderFactory(store=store, order_id="7770001", customer_email="grace@example.com")
    OrderLineFactory(
        order=order, line_number=1, title="Rain jacket", quantity=2, unit_price=Decimal("39.99")
    )
    OrderLineFactory(
        order=order, line_number=2, title="Socks", quantity=1, unit_price=Decimal("5.00")
    )
    return order


def open_order(shopper, order):
    page = shopper.page
    page.goto("/")
    page.get_by_label("Order number").fill(order.order_id)
    page.get_by_label("Email or postcode").fill(order.customer_email)
    page.get_by_role("button", name="Find my order").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order.order_id}")
    return page


def choose_jacket(page, quantity="2"):
    line = page.locator('[data-testid="eligible-line"][data-line-number="1"]')
    line.get_by_role("checkbox").check()
    line.get_by_label("Quantity").fill(quantity)
    line.get_by_label("Reason").select_option("TOO_SMALL")


@pytest.fixture
def make_shopper(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    shoppers = []

    def make(*, javascript=True):
        shoppers.append(Shopper(browser, live_server.url, javascript=javascript))
        return shoppers[-1]

    yield make
    for shopper in shoppers:
        shopper.close()


def test_estimate_without_javascript_then_confirmation_and_status(make_shopper, order):
    # axe-core runs as a script in the page: the pages are checked with JavaScript below.
    shopper = make_shopper(javascript=False)
    page = open_order(shopper, order)
    estimate = page.get_by_test_id("refund-estimate")
    expect(estimate).to_have_attribute("data-amount", "0.00")

    choose_jacket(page)
    page.get_by_label("Refund").check()
    page.get_by_role("button", name="Update estimate").click()

    estimate = page.get_by_test_id("refund-estimate")
    expect(estimate).to_have_attribute("data-amount", "75.03")  # 79.98 less the 4.95 fee
    expect(estimate).to_contain_text("$79.98")
    expect(estimate).to_contain_text("$4.95")
    expect(
        page.locator('[data-testid="eligible-line"][data-line-number="1"]').get_by_role("checkbox")
    ).to_be_checked()
    assert not Rma.objects.exists()

    page.get_by_role("button", name="Request return").click()
    expect(page.get_by_test_id("rma-number")).to_be_visible()
    expect(page.get_by_test_id("refund-estimate")).to_have_attribute("data-amount", "75.03")

    rma = Rma.objects.get()
    page.goto(status_path(rma))
    expect(page.get_by_test_id("refund-estimate")).to_have_attribute("data-amount", "75.03")

    # Received short (one of two), resolved: the outcome per line and in total.
    (line,) = rma.lines.all()
    rma_receive(
        rma=rma,
        actor=Actor.system("test"),
        lines=[ReceivedLine(line.pk, 1, "AS_NEW", "RESTOCK")],
    )
    rma_resolve(rma=rma, actor=Actor.system("test"), lines=[LineResolution(line.pk, "REFUND")])
    page.reload()
    outcome = page.get_by_test_id("return-outcome")
    expect(outcome).to_contain_text("Refunded $35.04")
    expect(outcome).to_have_attribute("data-amount", "35.04")
    expect(page.get_by_test_id("rma-status")).to_have_attribute("data-status", "RESOLVED")


def test_live_estimate_with_javascript_and_kept_items(make_shopper, order):
    shopper = make_shopper()
    page = open_order(shopper, order)
    # The script asks the server: the "Update estimate" button is not needed.
    expect(page.get_by_role("button", name="Update estimate")).to_be_hidden()
    estimate = page.get_by_test_id("refund-estimate")

    choose_jacket(page, quantity="1")
    page.get_by_label("Refund").check()
    expect(page.get_by_test_id("refund-estimate")).to_have_attribute("data-amount", "35.04")

    page.get_by_label("Store credit").check()  # the bonus, no fee
    expect(page.get_by_test_id("refund-estimate")).to_have_attribute("data-amount", "43.99")

    socks = page.locator('[data-testid="eligible-line"][data-line-number="2"]')
    socks.get_by_label("Reason").select_option("TOO_SMALL")  # selects the line too
    estimate = page.get_by_test_id("refund-estimate")
    expect(estimate).to_have_attribute("data-amount", "49.49")  # 43.99 + 5.00 + 0.50
    expect(estimate.get_by_test_id("keep-item")).to_have_count(1)
    shopper.check("24-estimate-live")

    page.get_by_role("button", name="Request return").click()
    expect(page.get_by_test_id("rma-number")).to_have_count(2)
    expect(page.get_by_test_id("refund-estimate").first).to_have_attribute(
        "data-amount", "49.49"
    )  # the request's sum first, then each RMA's
    expect(page.get_by_test_id("keep-items")).to_have_count(1)
    expect(page.get_by_test_id("keep-items")).to_contain_text("no need to send them back")
    shopper.check("25-confirmation-kept")
    kept = Rma.objects.get(status=RmaStatus.RESOLVED)
    assert [line.store_credit_amount for line in kept.lines.all()] == [Decimal("5.50")]

    sent = Rma.objects.get(status=RmaStatus.AUTHORIZED)
    page.goto(status_path(sent))
    expect(page.get_by_test_id("refund-estimate")).to_have_attribute("data-amount", "43.99")
    shopper.check("26-status-estimate")

    # The same page in German: amounts as German readers write them.
    page.goto(status_path(kept))
    page.get_by_role("button", name="Deutsch").click()
    expect(page.get_by_test_id("return-outcome")).to_contain_text(re.compile(r"5,50\s\$"))
    shopper.check("27-status-kept-de")

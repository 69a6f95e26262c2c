"""A shopper exchanges a Medium for a Large in headless Chromium, with and without
JavaScript: the picker, the confirmation, the email and the status page (axe on each)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from catalogue.models import ExchangeReservation, Variant
from rma.models import Rma
from tests.catalogue.factories import ProductFactory, VariantFactory
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory

from .test_browser import DESKTOP, PHONE, SCREENSHOTS, STATUS_LINK, Shopper

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LARGE = "Size: L, Colour: Blue"


@pytest.fixture
def order():
    store = StoreFactory(code="TEES", name="Tee Shop")
    product = ProductFactory(
        store=store,
        product_id="JACKET",
        title="Rain jacket",
        image_url="/static/catalogue/demo/jacket.svg",
    )
    sizes = [("S", "49.00", 2), ("M", "60.00", 3), ("L", "60.00", 1), ("XL", "60.00", 0)]
    for position, (size, price, stock) in enumerate(sizes):
        VariantFactory(
            product=product,
            item_id=f"JACKET-{size}",
            options=[["Size", size], ["Colour", "Blue"]],
            price=Decimal(price),
            stock=stock,
            position=position,
            image_url="/static/catalogue/demo/jacket-blue.svg" if size == "L" else "",
        )
    order = OrderFactory(store=store, order_id="7770001", customer_email="ada@example.com")
    OrderLineFactory(
        order=order,
        line_number=1,
        title="Rain jacket",
        item_id="JACKET-M",
        quantity=1,
        unit_price=Decimal("60.00"),
        image_url="",
    )
    return order


@pytest.fixture
def shopper_factory(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    made = []

    def make(*, javascript: bool) -> Shopper:
        shopper = Shopper(browser, live_server.url, javascript=javascript)
        made.append(shopper)
        return shopper

    yield make
    for shopper in made:
        shopper.close()


def look(shopper, name: str, *, javascript: bool) -> None:
    """axe and screenshots with JavaScript (axe runs in the page); screenshots without."""
    if javascript:
        shopper.check(name)
        return
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        shopper.page.set_viewport_size(viewport)
        shopper.page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
    shopper.page.set_viewport_size(DESKTOP)


def find_order(page, order):
    page.goto("/")
    page.get_by_label("Order number").fill(order.order_id)
    page.get_by_label("Email or postcode").fill(order.customer_email)
    page.get_by_role("button", name="Find my order").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order.order_id}")


def variant(line, item_id):
    return line.locator(f'[data-testid="exchange-variant"][data-item-id="{item_id}"]')


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_shopper_exchanges_a_medium_for_a_large(shopper_factory, order, mailoutbox, javascript):
    shopper = shopper_factory(javascript=javascript)
    name = "js" if javascript else "nojs"
    page = shopper.page
    find_order(page, order)
    line = page.locator('[data-testid="eligible-line"][data-line-number="1"]')
    picker = line.locator("[data-exchange-picker]")

    if javascript:
        # Hidden until Exchange is the chosen resolution.
        page.get_by_label("Refund").check()
        expect(picker).to_be_hidden()
        page.get_by_label("Exchange").check()
    else:
        expect(picker).to_be_visible()
        page.get_by_label("Exchange").check()
    expect(picker).to_be_visible()
    # One option per other variant; the one out of stock cannot be chosen and says so.
    expect(line.locator('[data-testid="exchange-variant"]')).to_have_count(3)
    extra_large = variant(line, "JACKET-XL")
    expect(extra_large.locator("input")).to_be_disabled()
    expect(extra_large).to_contain_text("Out of stock")
    expect(variant(line, "JACKET-S")).to_contain_text("$49.00")  # cheaper: price shown
    expect(variant(line, "JACKET-L").locator(".exchange__price")).to_have_count(0)
    look(shopper, f"exchange-01-order-{name}", javascript=javascript)

    variant(line, "JACKET-L").get_by_label(LARGE).check()
    if javascript:
        expect(line.get_by_role("checkbox")).to_be_checked()
    else:
        line.get_by_role("checkbox").check()
    line.get_by_label("Reason").select_option("TOO_SMALL")
    page.get_by_role("button", name="Request return").click()

    # Confirmation: the RMA with the exchange chosen.
    expect(page.locator('[data-testid="rma-number"]')).to_have_count(1)
    rma = Rma.objects.get()
    expect(page.locator('[data-testid="rma-number"]')).to_have_text(rma.rma_number)
    choice = page.locator('[data-testid="exchange-choice"]')
    expect(choice).to_contain_text(f"Rain jacket ({LARGE})")
    expect(choice).to_have_attribute("data-item-id", "JACKET-L")
    look(shopper, f"exchange-02-confirmation-{name}", javascript=javascript)
    reservation = ExchangeReservation.objects.get()
    assert reservation.variant.item_id == "JACKET-L"
    assert Variant.objects.get(item_id="JACKET-L").stock == 0

    # The email names the exchange and links the status page, which shows it too.
    [email] = [m for m in mailoutbox if rma.rma_number in m.subject]
    assert f"Exchange for: Rain jacket ({LARGE})" in email.body
    page.goto(STATUS_LINK.search(email.body).group(0))
    expect(page.locator('[data-testid="exchange-choice"]')).to_contain_text(
        re.compile(r"Rain jacket \(Size: L, Colour: Blue\).*Set aside for you")
    )
    look(shopper, f"exchange-03-status-{name}", javascript=javascript)

    # Cancelling gives the unit back.
    page.get_by_role("link", name="Cancel this return").click()
    page.get_by_role("button", name="Yes, cancel this return").click()
    expect(page.locator('[data-testid="rma-status"]')).to_have_text("Cancelled")
    assert Variant.objects.get(item_id="JACKET-L").stock == 1
    expect(page.locator('[data-testid="exchange-choice"]')).to_contain_text("No longer set aside")


def test_the_last_unit_taken_meanwhile_is_refused_on_the_picker(shopper_factory, order):
    shopper = shopper_factory(javascript=True)
    page = shopper.page
    find_order(page, order)
    line = page.locator('[data-testid="eligible-line"][data-line-number="1"]')
    page.get_by_label("Exchange").check()
    variant(line, "JACKET-L").get_by_label(LARGE).check()
    line.get_by_label("Reason").select_option("TOO_SMALL")
    # Another shopper takes the last Large while this page is open.
    Variant.objects.filter(item_id="JACKET-L").update(stock=0)
    page.get_by_role("button", name="Request return").click()

    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text("no longer available")
    expect(variant(line, "JACKET-L").locator("input")).to_be_disabled()
    expect(variant(line, "JACKET-L")).to_contain_text("Out of stock")
    assert not Rma.objects.exists()
    shopper.check("exchange-04-refused")

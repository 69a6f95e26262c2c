"""The shopper's whole path in headless Chromium, with axe-core on every page.

Screenshots of every page at phone and desktop widths go to test-artifacts/screenshots/.
The live server runs in a thread of this process, so the locmem outbox and the eager
Celery tasks (label, emails) are shared with the test.
"""

import io
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings as django_settings
from django.core.management import call_command
from PIL import Image
from playwright.sync_api import expect

from rma.models import Order, Rma, RmaPhoto, RmaStatus
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = django_settings.BASE_DIR / "test-artifacts" / "screenshots"
STATUS_LINK = re.compile(r"https?://[^\s\"<>]+/returns/[^\s\"<>/]+/")


class Shopper:
    """One browser page plus the checks every page gets: axe, CSP, screenshots."""

    def __init__(self, browser, base_url, *, javascript=True):
        self.context = browser.new_context(
            viewport=DESKTOP, base_url=base_url, java_script_enabled=javascript
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.problems = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.axe = Axe()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _console(self, message):
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def check(self, name: str) -> None:
        """axe-core finds nothing at either width; a full-page screenshot of each."""
        for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            self.page.set_viewport_size(viewport)
            results = self.axe.run(self.page)
            assert results.violations_count == 0, f"{name} ({label}):\n{results.generate_report()}"
            self.page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
        self.page.set_viewport_size(DESKTOP)

    def close(self):
        self.context.close()
        # The 404 and 429 pages are asked for on purpose; nothing else may go wrong.
        expected = ("status of 404 (Not Found)", "status of 429 (Too Many Requests)")
        unexpected = [p for p in self.problems if not p.endswith(expected)]
        assert not unexpected, unexpected


@pytest.fixture
def shopper(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    shopper = Shopper(browser, live_server.url)
    yield shopper
    shopper.close()


def png_file(tmp_path):
    path = tmp_path / "broken-strap.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_shopper_requests_a_return_and_cancels_it(shopper, mailoutbox, tmp_path):
    call_command("load_demo", stdout=io.StringIO())
    page = shopper.page

    # Lookup: a wrong pair first, then the order number and postcode with stray spaces.
    page.goto("/")
    shopper.check("01-lookup")
    page.get_by_label("Order number").fill("3000179310")
    page.get_by_label("Email or postcode").fill("nobody@example.com")
    page.get_by_role("button", name="Find my order").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text("We could not find an order")
    shopper.check("02-lookup-not-found")
    page.get_by_label("Order number").fill(" 3000179310 ")
    page.get_by_label("Email or postcode").fill(" 10166 ")
    page.get_by_role("button", name="Find my order").click()

    # Order page: line 1 is out of its window (RMA 1006), line 2 can be returned.
    expect(page.get_by_role("heading", level=1)).to_have_text("Order 3000179310")
    ineligible = page.locator('[data-testid="ineligible-line"][data-line-number="1"]')
    expect(ineligible.locator('[data-testid="ineligibility-reason"]')).to_contain_text(
        "The return window for this item closed on"
    )
    expect(ineligible.locator('[data-testid="ineligibility-reason"] small')).to_have_text(
        "(reason code 1006)"
    )
    expect(ineligible.locator('[data-testid="ineligibility-reason"]')).to_have_attribute(
        "data-code", "RMA 1006"
    )
    eligible = page.locator('[data-testid="eligible-line"][data-line-number="2"]')
    expect(eligible).to_be_visible()
    photo = eligible.locator("input[type=file]")
    expect(photo).to_be_hidden()  # shown only for reasons that need a photo
    shopper.check("03-order")

    # A reason that needs a photo, sent without one: refused, error tied to the field.
    eligible.get_by_label("Reason").select_option("DEFECTIVE")
    expect(photo).to_be_visible()
    expect(eligible.get_by_role("checkbox")).to_be_checked()
    page.get_by_label("Refund").check()
    page.get_by_role("button", name="Request return").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text("Add a photo of the item")
    # The demo's history has returns of its own orders, none of this one.
    assert not Rma.objects.filter(order__order_id="3000179310").exists()
    shopper.check("04-order-error")

    eligible = page.locator('[data-testid="eligible-line"][data-line-number="2"]')
    eligible.locator("input[type=file]").set_input_files(png_file(tmp_path))
    page.get_by_role("button", name="Request return").click()

    # Confirmation: the RMA number and status, and where to go next.
    rma = Rma.objects.get(order__order_id="3000179310")
    expect(page.locator('[data-testid="rma-number"]')).to_have_text(rma.rma_number)
    expect(page.locator('[data-testid="rma-status"]')).to_have_text("Authorized")
    assert RmaPhoto.objects.get().rma_line.rma == rma
    label = page.get_by_role("link", name=re.compile("Download the return label"))
    download = page.request.get(label.get_attribute("href"))
    assert (download.status, download.headers["content-type"]) == (200, "application/pdf")
    shopper.check("05-confirmation")

    # The confirmation email carries the signed status link.
    [email] = [m for m in mailoutbox if rma.rma_number in m.subject]
    assert email.to == ["grace@example.com"]
    status_link = STATUS_LINK.search(email.body).group(0)
    page.goto(status_link)
    expect(page.locator('[data-testid="rma-number"]')).to_have_text(rma.rma_number)
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Return requested")
    expect(timeline).to_contain_text("Return approved")
    shopper.check("06-status")

    # Cancel, with a confirmation step.
    page.get_by_role("link", name="Cancel this return").click()
    shopper.check("07-cancel-confirm")
    page.get_by_role("button", name="Yes, cancel this return").click()
    expect(page.locator('[data-testid="rma-status"]')).to_have_text("Cancelled")
    expect(page.get_by_role("status")).to_contain_text("is cancelled")
    expect(timeline).to_contain_text("Return cancelled")
    expect(page.get_by_role("link", name="Cancel this return")).to_have_count(0)
    shopper.check("08-status-cancelled")
    rma.refresh_from_db()
    assert rma.status == RmaStatus.CANCELLED

    # A tampered link shows nothing of the return.
    page.goto(status_link.replace(rma.rma_number[:4], "XXXX"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert rma.rma_number not in page.content()
    shopper.check("09-not-found")


def test_store_choice_language_and_rate_limit_pages(shopper, settings):
    settings.LOOKUP_RATE_LIMIT_PER_ORDER = "2/15m"
    light = StoreFactory(code="TMSDE", name="Der Modellladen", brand_colour="#fde047")
    dark = StoreFactory(code="TMSUS", name="The Model Store", brand_colour="#0f766e")
    order = OrderFactory(store=dark, order_id="5550001")
    twin = OrderFactory(store=light, order_id="5550001", customer_email=order.customer_email)
    for each in (order, twin):
        OrderLineFactory(order=each, line_number=1, title="Wanderschuhe")
        OrderLineFactory(order=each, line_number=2, title="Gutschein", final_sale=True)
    page = shopper.page

    page.goto("/")
    page.get_by_label("Order number").fill("5550001")
    page.get_by_label("Email or postcode").fill(order.customer_email)
    page.get_by_role("button", name="Find my order").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your store")
    shopper.check("10-choose-store")
    page.get_by_role("link", name="Der Modellladen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Order 5550001")
    shopper.check("11-order-brand-light")  # a light brand colour gets dark header text
    page.go_back()
    page.get_by_role("link", name="The Model Store").click()
    shopper.check("12-order-brand-dark")

    # The same pages in German.
    page.get_by_role("button", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("button", name="Rücksendung anfordern")).to_be_visible()
    shopper.check("13-order-de")
    page.goto("/")
    expect(page.get_by_label("Bestellnummer")).to_be_visible()
    shopper.check("14-lookup-de")
    page.get_by_role("button", name="English").click()

    for _ in range(2):
        page.get_by_label("Order number").fill("5550001")
        page.get_by_label("Email or postcode").fill("guess@example.com")
        page.get_by_role("button", name="Find my order").click()
    page.get_by_label("Order number").fill("5550001")
    page.get_by_label("Email or postcode").fill(order.customer_email)
    response_status = []
    page.on("response", lambda response: response_status.append(response.status))
    page.get_by_role("button", name="Find my order").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Please try again later")
    assert 429 in response_status
    assert Order.objects.count() == 2
    shopper.check("15-rate-limited")


def test_the_request_works_without_javascript(browser, live_server, settings, tmp_path):
    settings.SITE_URL = live_server.url
    shopper = Shopper(browser, live_server.url, javascript=False)
    call_command("load_demo", stdout=io.StringIO())
    page = shopper.page

    page.goto("/")
    page.get_by_label("Order number").fill("3000179302")
    page.get_by_label("Email or postcode").fill("ADA@example.com")
    page.get_by_role("button", name="Find my order").click()
    line = page.locator('[data-testid="eligible-line"][data-line-number="1"]')
    photo = line.locator("input[type=file]")
    expect(photo).to_be_visible()  # without the script every line offers its photo input
    page.set_viewport_size(PHONE)
    page.screenshot(path=SCREENSHOTS / "16-order-no-javascript-phone.png", full_page=True)

    line.get_by_role("checkbox").check()
    line.get_by_label("Quantity").fill("2")
    line.get_by_label("Reason").select_option("DEFECTIVE")
    photo.set_input_files(png_file(tmp_path))
    page.get_by_label("Store credit").check()
    page.get_by_role("button", name="Request return").click()

    rma = Rma.objects.get(order__order_id="3000179302")
    expect(page.locator('[data-testid="rma-number"]')).to_have_text(rma.rma_number)
    assert (rma.resolution, rma.lines.get().quantity) == ("STORE_CREDIT", 2)
    assert rma.lines.get().photos.count() == 1
    shopper.close()

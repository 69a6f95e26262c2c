"""The shopper screens in headless Chromium (phone 390 px and desktop): store lookup pages
and language, item details, reason codes, several photos, the busy button, the stepper,
ship-by date and zoned times; axe-core finds nothing on any of them.

`test_every_shopper_page_screenshot` walks every shopper page in several states and saves
a screenshot of each at both widths: to test-artifacts/screenshots/ by default, to
docs/screenshots/ with `make screenshots` (SCREENSHOTS_DIR).
"""

import io
import os
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from PIL import Image
from playwright.sync_api import expect

from rma.links import status_path
from rma.models import Rma, RmaPhoto, RmaStatus

from .test_browser import DESKTOP, PHONE, Shopper

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS_DIR = Path(
    os.environ.get("SCREENSHOTS_DIR")
    or django_settings.BASE_DIR / "test-artifacts" / "screenshots" / "shopper"
)


def small_png(path: Path) -> None:
    """Keep committed screenshots small: 256 colours are plenty for flat UI."""
    with Image.open(path) as image:
        quantized = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    quantized.save(path, format="PNG", optimize=True)


class ScreenshotShopper(Shopper):
    def check(self, name: str) -> None:
        """axe-core at both widths; a full-page screenshot of each in SCREENSHOTS_DIR."""
        SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
        for label, viewport in (("390", PHONE), ("1280", DESKTOP)):
            self.page.set_viewport_size(viewport)
            results = self.axe.run(self.page)
            assert results.violations_count == 0, f"{name} ({label}):\n{results.generate_report()}"
            path = SCREENSHOTS_DIR / f"{name}-{label}.png"
            self.page.screenshot(path=path, full_page=True)
            small_png(path)
        self.page.set_viewport_size(DESKTOP)


@pytest.fixture
def shopper(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    call_command("load_demo", stdout=io.StringIO())
    shopper = ScreenshotShopper(browser, live_server.url)
    yield shopper
    shopper.close()


def png_files(tmp_path, count):
    paths = []
    for number in range(count):
        path = tmp_path / f"photo-{number}.png"
        Image.new("RGB", (40, 30), (20 * number, 120, 140)).save(path, format="PNG")
        paths.append(path)
    return paths


def look_up(page, number, contact):
    page.get_by_label(re.compile("Order number|Bestellnummer")).fill(number)
    page.get_by_label(re.compile("Email or postcode|E-Mail")).fill(contact)
    page.locator("form.card button[type=submit]").click()


def test_german_store_lookup_page_is_branded_german_and_switchable(shopper):
    page = shopper.page
    page.goto("/s/TMSDE/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator(".site-header")).to_contain_text("Das Modellgeschäft")
    expect(page.locator(".site-logo")).to_have_attribute("src", "/static/demo/tms-de-logo.svg")
    # The header wears the store's colour (#7D3C98), not the generic blue.
    header = page.locator(".site-header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header == "rgb(125, 60, 152)"
    # The shopper's choice wins over the store's language, without JavaScript's help.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Find my order")).to_be_visible()
    page.get_by_role("button", name="Deutsch").click()
    look_up(page, "DE-100234", "erika@example.de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    line = page.locator('[data-testid="eligible-line"][data-line-number="2"]')
    expect(line.locator('[data-testid="item-options"]')).to_contain_text("Farbe: Rot")
    expect(line.locator('[data-testid="price-paid"]')).to_contain_text("€")
    # "Look up another order" leads back to this store's own search.
    page.get_by_role("link", name="Eine andere Bestellung suchen").click()
    expect(page).to_have_url(re.compile("/s/TMSDE/$"))


def test_items_codes_photos_busy_button_stepper_and_ship_by(shopper, tmp_path):
    page = shopper.page
    page.goto("/")
    look_up(page, "3000179370", "hedy@example.com")
    # An excluded item says why in words; its code is a "reason code", with the full code
    # in data-code for support.
    excluded = page.locator('[data-testid="ineligible-line"][data-line-number="2"]')
    reason = excluded.locator('[data-testid="ineligibility-reason"]')
    expect(reason).to_contain_text("excludes this item from returns")
    expect(reason.locator("small")).to_have_text("(reason code 1019)")
    expect(reason).to_have_attribute("data-code", "RMA 1019")

    # A fully ineligible order says so plainly.
    page.goto("/")
    look_up(page, "3000179330", "katherine@example.com")
    expect(page.locator('[data-testid="nothing-returnable"]')).to_have_text(
        "None of the items in this order can be returned."
    )
    expect(page.get_by_text("Choose the items you want to return")).to_have_count(0)

    # Options and price paid; three photos on one line; the button is busy once sent.
    page.goto("/")
    look_up(page, "3000179302", "ada@example.com")
    line = page.locator('[data-testid="eligible-line"][data-line-number="1"]')
    expect(line.locator('[data-testid="item-options"]')).to_have_text('Size: 15" · Colour: Black')
    expect(line.locator('[data-testid="price-paid"]')).to_contain_text(re.compile(r"\$\d"))
    line.get_by_label("Reason").select_option("DEFECTIVE")
    line.locator("input[type=file]").set_input_files(png_files(tmp_path, 3))
    page.get_by_label("Refund").check()
    # What the button shows once the form is sent, noted by the page itself (kept in its
    # session storage across the navigation); a second click then must send nothing.
    page.evaluate(
        """() => {
        const button = document.querySelector('button[data-busy-text]');
        button.form.addEventListener('submit', () => {
          requestAnimationFrame(() => setTimeout(() => {
            sessionStorage.setItem('busy', JSON.stringify([button.textContent, button.disabled]));
            button.click();
          }));
        });
      }"""
    )
    posts = []
    page.on(
        "request",
        lambda request: (
            posts.append(request.url)
            if request.method == "POST" and request.url.endswith("/order/TMSUS/3000179302/")
            else None
        ),
    )
    page.get_by_role("button", name="Request return").click()
    expect(page.locator('[data-testid="confirmation-heading"]')).to_have_text(
        "Thank you, your return is approved"
    )
    assert page.evaluate("() => JSON.parse(sessionStorage.getItem('busy'))") == ["Sending…", True]
    assert len(posts) == 1
    rma = Rma.objects.get(order__order_id="3000179302")
    assert RmaPhoto.objects.filter(rma_line__rma=rma).count() == 3
    expect(page.locator('[data-testid="rma-status"]')).to_have_text("Authorized")
    expect(page.locator('[data-testid="ship-by"]')).to_contain_text("Please send your parcel by")

    # The status page: the stepper (an ordered list, the current step marked), zoned times.
    page.goto(status_path(rma))
    current = page.locator('[data-testid="progress"] [aria-current="step"]')
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("data-step", "approved")
    expect(page.locator('[data-testid="ship-by"]')).to_be_visible()
    expect(page.locator(".timeline time").first).to_have_text(re.compile(r"\d\d:\d\d E[SD]T$"))
    page.get_by_role("link", name="Cancel this return").click()
    page.get_by_role("button", name="Yes, cancel this return").click()
    expect(current).to_have_attribute("data-step", "cancelled")
    assert Rma.objects.get(pk=rma.pk).status == RmaStatus.CANCELLED


def test_every_shopper_page_screenshot(shopper, tmp_path, settings):
    """Every shopper page, in several states, at 390 and 1280 px; axe-clean."""
    settings.LOOKUP_RATE_LIMIT_PER_ORDER = "2/15m"
    page = shopper.page
    page.goto("/")
    shopper.check("01-lookup")
    look_up(page, "3000179310", "nobody@example.com")
    shopper.check("02-lookup-not-found")
    page.goto("/s/TMSDE/")
    shopper.check("03-lookup-store-de")
    page.get_by_role("button", name="English").click()
    look_up(page, "DE-100234", "erika@example.de")
    shopper.check("04-order-de-store-in-english")
    page.goto("/")
    look_up(page, "3000179302", "ada@example.com")
    shopper.check("05-order")
    line = page.locator('[data-testid="eligible-line"][data-line-number="2"]')
    line.get_by_label("Reason").select_option("TOO_SMALL")
    page.get_by_label("Refund").check()
    expect(page.locator('[data-testid="refund-estimate"]')).not_to_have_attribute(
        "data-amount", "0.00"
    )
    shopper.check("06-order-estimate")
    page.get_by_role("button", name="Request return").click()
    expect(page.locator('[data-testid="confirmation-heading"]')).to_be_visible()
    shopper.check("07-confirmation")
    page.goto("/")
    look_up(page, "3000179330", "katherine@example.com")
    shopper.check("08-order-nothing-returnable")
    page.goto("/")
    look_up(page, "3000179370", "hedy@example.com")
    shopper.check("09-order-partly-returnable")

    # The status page in each state the demo history has.
    for status in (
        RmaStatus.REQUESTED,
        RmaStatus.AUTHORIZED,
        RmaStatus.RECEIVED,
        RmaStatus.RESOLVED,
        RmaStatus.REJECTED,
        RmaStatus.CANCELLED,
        RmaStatus.EXPIRED,
    ):
        rma = Rma.objects.filter(status=status, store__code="TMSUS").order_by("pk").first()
        assert rma is not None, status
        page.goto(status_path(rma))
        expect(page.locator('[data-testid="rma-status"]')).to_have_attribute("data-status", status)
        expect(page.locator('[data-testid="progress"] [aria-current="step"]')).to_have_count(1)
        shopper.check(f"10-status-{status.lower()}")

    page.goto("/returns/not-a-token/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    shopper.check("11-not-found")
    page.goto("/")
    for _ in range(3):  # the earlier miss counts too: stop once the lookup is paused
        if not page.get_by_label("Order number").count():
            break
        look_up(page, "3000179310", "guess@example.com")
    expect(page.get_by_role("heading", level=1)).to_have_text("Please try again later")
    shopper.check("12-rate-limited")

"""The warehouse's paths in headless Chromium, at a phone's width (390 px) and a desk's.

A scanner is a keyboard: it types the characters and presses Enter. The live server runs
in a thread of this process, so the locmem outbox and the eager tasks are shared.
"""

import io
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from rma.models import LabelStatus, RmaEvent, RmaLine, RmaPhoto, RmaStatus
from tests.catalogue.factories import ProductFactory, VariantFactory

from .conftest import user_with
from .test_views import lines, wrong_check_character

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


@pytest.fixture(params=list(WIDTHS))
def width(request):
    return request.param


@pytest.fixture
def page(browser, live_server, width):
    w, h = WIDTHS[width]
    context = browser.new_context(base_url=live_server.url, viewport={"width": w, "height": h})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def on_response(response):
        if response.status >= 400 and "/static/" in response.url:
            problems.append(f"{response.status} {response.url}")

    def on_console(message):
        # Refused scans answer 403/404/409/422 on purpose; Chromium logs each as an error.
        expected = message.text.startswith("Failed to load resource")
        if "Content Security Policy" in message.text or (message.type == "error" and not expected):
            problems.append(message.text)

    page.on("response", on_response)
    page.on("console", on_console)
    yield page
    context.close()
    assert problems == [], "no script errors and no CSP violations"


def log_in(page, username, next_url="/warehouse/receive/"):
    page.goto(f"/admin/login/?next={next_url}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(next_url)


def scan(page, text):
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def focused_id(page):
    return page.evaluate("document.activeElement && document.activeElement.id")


def assert_accessible(page, name):
    results = Axe().run(page)
    assert results.violations_count == 0, f"{name}:\n{results.generate_report()}"


def assert_fits(page, name):
    """Nothing wider than the window: no sideways scrolling on a phone."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: {overflow}px wider than the window"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_scan_refuse_unchosen_lines_then_record_per_unit(page, rma, width):
    """Line 1 (2 units, DEFECTIVE) has nothing preselected; line 2 (TOO_SMALL) has."""
    rma.label_status = LabelStatus.NOT_REQUIRED
    rma.save()
    first, second = lines(rma)
    RmaLine.objects.filter(pk=first.pk).update(
        reason_code="DEFECTIVE", customer_comment="One of them rattles."
    )
    user_with("receive_rma", username="dock")
    log_in(page, "dock")
    scan_box = page.get_by_label("Scan or type RMA number")
    expect(scan_box).to_be_focused()
    expect(page).to_have_title("Scan a parcel · Warehouse receiving · Returns")
    assert_accessible(page, "scan page")
    assert_fits(page, "scan page")

    # A mis-scanned number (wrong check character) is refused loudly, and the box is ready.
    scan(page, wrong_check_character(rma.rma_number))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("REJECTED")
    expect(alert).to_contain_text("is not a valid RMA number")
    expect(scan_box).to_be_focused()
    expect(scan_box).to_have_value("")
    assert_accessible(page, "rejected scan")

    # The scanner reads the number without separators, in lower case.
    scan(page, rma.rma_number.replace("-", "").lower())
    expect(page).to_have_url(f"/warehouse/receive/{rma.rma_number}/")
    expect(page).to_have_title(f"Receive {rma.rma_number} · Warehouse receiving · Returns")
    cards = page.get_by_test_id("expected-line")
    expect(cards).to_have_count(2)
    first_quantity = page.locator(f"#id_line-{first.pk}-received_quantity")
    expect(first_quantity).to_be_focused()
    expect(first_quantity).to_have_value("2")
    # The shopper's words beside the line; nothing preselected for a defect.
    expect(cards.first.get_by_test_id("shopper-reason")).to_contain_text("Defective or damaged")
    expect(cards.first.get_by_test_id("shopper-comment")).to_have_text("One of them rattles.")
    expect(page.locator(f"#id_line-{first.pk}-condition")).to_have_value("")
    expect(page.locator(f"#id_line-{first.pk}-disposition")).to_have_value("")
    expect(page.locator(f"#id_line-{second.pk}-condition")).to_have_value("AS_NEW")
    expect(cards.nth(1).get_by_test_id("suggested")).to_be_visible()
    options = page.locator(f"#id_line-{first.pk}-condition option").all_inner_texts()
    assert "Not inspected yet" not in options
    assert_accessible(page, "receive page")
    assert_fits(page, "receive page")

    # Enter at once: the unchosen line cannot be recorded; the cursor waits on its choice.
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("form-error")).to_contain_text("The receipt was not recorded")
    expect(page.locator(f"#id_line-{first.pk}-condition")).to_be_focused()
    expect(cards.first).to_contain_text("Choose the condition of the 2 units received.")
    assert RmaLine.objects.filter(rma=rma, received_quantity__isnull=False).count() == 0
    assert not RmaEvent.objects.filter(rma=rma).exists()
    assert_accessible(page, "refused receipt")
    assert_fits(page, "refused receipt")

    # One unit is fine, the other damaged: the fine one on the line, the other in a group.
    page.locator(f"#id_line-{first.pk}-condition").select_option("AS_NEW")
    page.locator(f"#id_line-{first.pk}-disposition").select_option("RESTOCK")
    cards.first.get_by_text("arrived in another condition").click()
    page.locator(f"#id_line-{first.pk}-other-1-quantity").fill("1")
    page.locator(f"#id_line-{first.pk}-other-1-condition").select_option("DAMAGED")
    page.locator(f"#id_line-{first.pk}-other-1-disposition").select_option("DISPOSE")
    assert_accessible(page, "receive page with another group open")
    page.locator(f"#id_line-{second.pk}-received_quantity").press("Enter")

    expect(page).to_have_url("/warehouse/receive/")
    expect(page.get_by_role("status")).to_contain_text(f"Return {rma.rma_number} received")
    expect(page.get_by_role("status")).to_contain_text("Customer care resolves it.")
    expect(page.get_by_label("Scan or type RMA number")).to_be_focused()

    rma.refresh_from_db()
    assert rma.status == RmaStatus.RECEIVED
    first, second = lines(rma)
    assert first.received_quantity == 2
    assert first.receipt_units == [
        {"quantity": 1, "condition": "AS_NEW", "disposition": "RESTOCK"},
        {"quantity": 1, "condition": "DAMAGED", "disposition": "DISPOSE"},
    ]
    assert (second.received_quantity, second.condition) == (1, "AS_NEW")
    [email] = [email for email in mail.outbox if "We received your parcel" in email.subject]
    assert email.to == [rma.order.customer_email]

    # The same parcel scanned again is refused with its status named.
    scan(page, rma.rma_number)
    expect(page.get_by_role("alert")).to_contain_text("is Received, not awaiting a parcel")


def test_keyboard_order_runs_line_by_line(page, rma):
    user_with("receive_rma", username="dock")
    log_in(page, "dock", next_url=f"/warehouse/receive/{rma.rma_number}/")
    first, second = lines(rma)
    expect(page.locator(f"#id_line-{first.pk}-received_quantity")).to_be_focused()
    order = []
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    assert order == [
        f"id_line-{first.pk}-condition",
        f"id_line-{first.pk}-disposition",
        "SUMMARY",  # the other-condition groups of the two-unit line, closed
        f"id_line-{second.pk}-received_quantity",
        f"id_line-{second.pk}-condition",
    ]


def test_phone_cards_keep_the_column_names(page, rma, width):
    user_with("receive_rma", username="dock")
    log_in(page, "dock", next_url=f"/warehouse/receive/{rma.rma_number}/")
    first = lines(rma)[0]
    headers = page.locator("table.lines thead th")
    expect(headers).to_have_count(6)
    cell = page.locator(f"#id_line-{first.pk}-condition").locator("xpath=ancestor::td")
    shown_label = cell.evaluate("cell => getComputedStyle(cell, '::before').content")
    if width == "phone":
        assert shown_label == '"Condition"', "each value under its column's name"
        card = page.get_by_test_id("expected-line").first.bounding_box()
        assert card["width"] <= 390
    else:
        assert shown_label in ("none", "normal"), "a table with its header row on a desk"
        expect(headers.nth(4)).to_be_visible()


def test_photos_are_thumbnails_of_the_private_view(page, rma):
    first = lines(rma)[0]
    photo = RmaPhoto.objects.create(
        rma_line=first, image=ContentFile(png(), name="scratch.png"), content_type="image/png"
    )
    url = reverse("admin:rma_rma_photo", args=[rma.pk, photo.pk])
    user_with("receive_rma", "view_rmaphoto", username="dock")
    log_in(page, "dock", next_url=f"/warehouse/receive/{rma.rma_number}/")
    thumbnail = page.get_by_test_id("shopper-photos").get_by_role("img")
    expect(thumbnail).to_have_attribute("src", url)
    expect(thumbnail).to_have_js_property("complete", True)
    assert thumbnail.evaluate("image => image.naturalWidth") == 120, "the photo loads"
    link = page.get_by_test_id("shopper-photos").get_by_role("link")
    expect(link).to_have_attribute("href", url)
    assert_accessible(page, "receive page with a photo")
    assert_fits(page, "receive page with a photo")
    # Signed out, the same address gives nothing.
    page.context.clear_cookies()
    response = page.request.get(url, max_redirects=0)
    assert response.status == 302


def received(rma):
    rma.status = RmaStatus.RECEIVED
    rma.save()
    rma.lines.update(received_quantity=1, condition="AS_NEW", disposition="RESTOCK")
    first = lines(rma)[0]
    first.receipt_units = [{"quantity": 1, "condition": "AS_NEW", "disposition": "RESTOCK"}]
    first.save()
    return rma


def test_resolve_with_the_refund_preview_and_outcome_fields(page, rma):
    received(rma)
    first = lines(rma)[0]
    # The item is in the store's catalogue: the exchange is a choice of its variants.
    product = ProductFactory(store=rma.store, title="Laptop case")
    VariantFactory(product=product, item_id=first.order_line.item_id, price=Decimal("39.99"))
    VariantFactory(
        product=product,
        item_id="SKU-LARGER",
        options=[["Size", "L"]],
        price=Decimal("39.99"),
        stock=2,
    )
    user_with("resolve_rma", username="resolver")
    log_in(page, "resolver", next_url=f"/warehouse/resolve/{rma.rma_number}/")
    expect(page).to_have_title(f"Resolve {rma.rma_number} · Resolving returns · Returns")
    expect(page.get_by_test_id("section")).to_have_text("Resolving returns")
    expect(page.get_by_test_id("refund-preview").first).to_contain_text("$39.99")
    expect(page.get_by_test_id("receipt").first).to_have_text(
        "1 \N{MULTIPLICATION SIGN} As new → Restock"
    )
    expect(page.get_by_test_id("shopper-reason").first).to_contain_text("Too small")
    outcome = page.locator(f"#id_line-{first.pk}-outcome")
    expect(outcome).to_be_focused()
    replacement = page.locator(f"#id_line-{first.pk}-replacement_item_id")
    credit_code = page.locator(f"#id_line-{first.pk}-store_credit_code")
    expect(replacement).to_be_hidden()
    assert_accessible(page, "resolve page")
    assert_fits(page, "resolve page")

    outcome.select_option("EXCHANGE")
    expect(replacement).to_be_visible()
    expect(credit_code).to_be_hidden()
    replacement.select_option("SKU-LARGER")
    page.get_by_role("button", name="Resolve return").click()

    expect(page.get_by_role("status")).to_contain_text(f"Return {rma.rma_number} is resolved.")
    expect(page.get_by_test_id("resolved-line")).to_have_count(2)
    assert_accessible(page, "resolved page")
    assert_fits(page, "resolved page")
    rma.refresh_from_db()
    assert rma.status == RmaStatus.RESOLVED
    assert [(line.outcome, line.replacement_item_id) for line in lines(rma)] == [
        ("EXCHANGE", "SKU-LARGER"),
        ("REFUND", ""),
    ]


def test_the_warehouse_is_told_who_resolves(page, rma):
    received(rma)
    user_with("receive_rma", username="dock")
    log_in(page, "dock")
    page.goto(f"/warehouse/resolve/{rma.rma_number}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Resolved by customer care")
    expect(page.get_by_test_id("resolve-elsewhere")).to_contain_text(
        "“Customer care agent” and “Customer care supervisor” groups"
    )
    expect(page).to_have_title("Resolved by customer care · Resolving returns · Returns")
    assert_accessible(page, "resolved elsewhere")
    assert_fits(page, "resolved elsewhere")


def test_the_warehouse_resolves_when_allowed_from_the_receipt_banner(page, rma, settings):
    settings.WAREHOUSE_CAN_RESOLVE = True
    first, second = lines(rma)
    user_with("receive_rma", username="dock")
    log_in(page, "dock", next_url=f"/warehouse/receive/{rma.rma_number}/")
    page.locator(f"#id_line-{second.pk}-received_quantity").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("received")
    page.get_by_role("link", name="Resolve it now").click()
    expect(page).to_have_url(f"/warehouse/resolve/{rma.rma_number}/")
    expect(page.locator(f"#id_line-{first.pk}-outcome")).to_be_focused()
    page.get_by_role("button", name="Resolve return").click()
    expect(page.get_by_role("status")).to_contain_text(f"Return {rma.rma_number} is resolved.")
    rma.refresh_from_db()
    assert rma.status == RmaStatus.RESOLVED

"""The warehouse's receiving path in headless Chromium, typed as a barcode scanner types.

A scanner is a keyboard: it types the characters and presses Enter. The live server runs
in a thread of this process, so the locmem outbox and the eager tasks are shared.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from playwright.sync_api import expect

from rma.models import LabelStatus, RmaStatus

from .conftest import user_with
from .test_views import lines, wrong_check_character

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def on_response(response):
        if response.status >= 400 and "/static/" in response.url:
            problems.append(f"{response.status} {response.url}")

    def on_console(message):
        # Refused scans answer 404/409/422 on purpose; Chromium logs each as an error.
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


def test_scan_record_and_back_to_the_scan_box(page, rma, settings):
    rma.label_status = LabelStatus.NOT_REQUIRED
    rma.save()
    user_with("receive_rma", username="dock")
    log_in(page, "dock")
    scan_box = page.get_by_label("Scan or type RMA number")
    expect(scan_box).to_be_focused()
    assert_accessible(page, "scan page")

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
    expect(page.get_by_test_id("expected-line")).to_have_count(2)
    first, second = lines(rma)
    first_quantity = page.locator(f"#id_line-{first.pk}-received_quantity")
    expect(first_quantity).to_be_focused()
    expect(first_quantity).to_have_value("2")
    assert_accessible(page, "receive page")

    # Short on the first line (typing replaces the prefilled 2), then Tab, Tab, Tab to the
    # next line's quantity, and Enter records the whole parcel.
    page.keyboard.type("1")
    page.keyboard.press("Tab")
    assert focused_id(page) == f"id_line-{first.pk}-condition"
    page.keyboard.press("Tab")
    assert focused_id(page) == f"id_line-{first.pk}-disposition"
    page.keyboard.press("Tab")
    assert focused_id(page) == f"id_line-{second.pk}-received_quantity"
    page.keyboard.type("1")
    page.keyboard.press("Enter")

    expect(page).to_have_url("/warehouse/receive/")
    expect(page.get_by_role("status")).to_contain_text(f"Return {rma.rma_number} received")
    expect(page.get_by_label("Scan or type RMA number")).to_be_focused()

    rma.refresh_from_db()
    assert rma.status == RmaStatus.RECEIVED
    assert [(line.received_quantity, line.condition) for line in lines(rma)] == [
        (1, "AS_NEW"),
        (1, "AS_NEW"),
    ]
    [email] = [email for email in mail.outbox if "We received your parcel" in email.subject]
    assert email.to == [rma.order.customer_email]

    # The same parcel scanned again is refused with its status named.
    scan(page, rma.rma_number)
    expect(page.get_by_role("alert")).to_contain_text("is Received, not awaiting a parcel")


def test_resolve_with_the_refund_preview_and_outcome_fields(page, rma):
    rma.status = RmaStatus.RECEIVED
    rma.save()
    rma.lines.update(received_quantity=1, condition="AS_NEW", disposition="RESTOCK")
    first = lines(rma)[0]
    user_with("resolve_rma", username="resolver")
    log_in(page, "resolver", next_url=f"/warehouse/resolve/{rma.rma_number}/")
    expect(page.get_by_test_id("refund-preview").first).to_contain_text("39.99 USD")
    outcome = page.locator(f"#id_line-{first.pk}-outcome")
    expect(outcome).to_be_focused()
    replacement = page.locator(f"#id_line-{first.pk}-replacement_item_id")
    credit_code = page.locator(f"#id_line-{first.pk}-store_credit_code")
    expect(replacement).to_be_hidden()
    assert_accessible(page, "resolve page")

    outcome.select_option("EXCHANGE")
    expect(replacement).to_be_visible()
    expect(credit_code).to_be_hidden()
    replacement.fill("SKU-LARGER")
    replacement.press("Enter")

    expect(page.get_by_role("status")).to_contain_text(f"Return {rma.rma_number} is resolved.")
    expect(page.get_by_test_id("resolved-line")).to_have_count(2)
    rma.refresh_from_db()
    assert rma.status == RmaStatus.RESOLVED
    assert [(line.outcome, line.replacement_item_id) for line in lines(rma)] == [
        ("EXCHANGE", "SKU-LARGER"),
        ("REFUND", ""),
    ]
